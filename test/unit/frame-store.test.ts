/** Stored takes (encode/frame-store.ts): whole or absent, found by song and variant, the least recently played evicted past the bound. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { blockSum, FrameStore } from '../../src/encode/frame-store.js';
import { tempDir } from '../helpers/station.js';

const log = pino({ level: 'silent' });

function keep(store: FrameStore, key: string, frames: number, fill = 1): void {
  const rec = store.record(key, 'v');
  for (let i = 0; i < frames; i++) {
    rec.addFrame(Buffer.alloc(400, (fill + i) & 0xff));
    rec.addSum(i * 7);
  }
  rec.save();
}

test('a take reads back as written, per song and variant; an unsaved one leaves nothing', () => {
  const dir = tempDir('frame-store');
  const store = new FrameStore(dir, 1 << 30, log);
  keep(store, 'song', 10);
  const take = store.open('song', 'v')!;
  assert.equal(take.frameCount, 10);
  assert.deepEqual([...take.sums], [0, 7, 14, 21, 28, 35, 42, 49, 56, 63]);
  const [f3, f4] = take.frames(3, 5);
  assert.equal(f3![0], 4);
  assert.equal(f4![0], 5);
  assert.equal(f4!.length, 400);
  take.close();
  assert.equal(store.open('song', 'other'), null, 'another bitrate or encoder is another take');
  const rec = store.record('gone', 'v');
  rec.addFrame(Buffer.alloc(400));
  rec.discard();
  assert.equal(store.open('gone', 'v'), null);
  assert.equal(readdirSync(dir).length, 2, 'only the kept take’s two files');
});

test('a broken index is no take; past the bound the least recently played goes', () => {
  const dir = tempDir('frame-store');
  const store = new FrameStore(dir, 2.5 * 4100, log);
  keep(store, 'a', 10);
  keep(store, 'b', 10);
  store.open('a', 'v')?.close(); // a played again: b is now the oldest
  keep(store, 'c', 10);
  assert.ok(store.open('a', 'v'), 'a stays');
  assert.equal(store.open('b', 'v'), null, 'b evicted');
  assert.ok(store.open('c', 'v'));
  const index = readdirSync(dir).find((f) => f.endsWith('.index'))!;
  writeFileSync(path.join(dir, index), 'not an index');
  const again = new FrameStore(dir, 1 << 30, log);
  assert.equal([again.open('a', 'v'), again.open('c', 'v')].filter((t) => t === null).length, 1, 'the broken one reads as none');
  const intact = again.open('a', 'v') ? 'a' : 'c';
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.frames'))) truncateSync(path.join(dir, f), 1000);
  assert.equal(again.open(intact, 'v'), null, 'frames its index does not account for: no take');
  writeFileSync(path.join(dir, `${'0'.repeat(40)}.123.abc.frames`), 'left by a crash');
  new FrameStore(dir, 1 << 30, log);
  assert.ok(!readdirSync(dir).some((f) => f.includes('.123.')), 'a crashed writer’s file is cleared');
});

test('checksums are signed 32-bit values, kept as computed and in the bytes stores have always held', () => {
  const words = new Int32Array(1152).map((_, i) => Math.imul(i + 1, 0x9e3779b1));
  const sum = blockSum(words);
  // FNV-1a over the words, computed the plain way, unsigned: the store keeps the same 32 bits.
  let unsigned = 0x811c9dc5;
  for (const w of words) unsigned = Math.imul(unsigned ^ w, 0x01000193) >>> 0;
  assert.equal(sum >>> 0, unsigned);
  assert.equal(sum, sum | 0, 'a signed 32-bit integer');

  const dir = tempDir('frame-store');
  const store = new FrameStore(dir, 1 << 30, log);
  const rec = store.record('song', 'v');
  const sums = [sum, -1, 0x7fffffff, -0x80000000];
  for (const s of sums) {
    rec.addFrame(Buffer.alloc(400, 1));
    rec.addSum(s);
  }
  rec.save();
  const take = store.open('song', 'v')!;
  assert.deepEqual([...take.sums], sums);
  // On disk, little-endian: -1 is ff ff ff ff, as an index written unsigned held it.
  const index = readdirSync(dir).find((n) => n.endsWith('.index'))!;
  const bytes = readFileSync(path.join(dir, index));
  assert.equal(bytes.readUInt32LE(12 + 4), 0xffffffff);
  take.close();
});
