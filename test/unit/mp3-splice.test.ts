/**
 * The join of two encodes (src/audio/mp3-splice.ts): after the
 * patch, a frame of the second encode reads, from the joined stream, the
 * very bytes it reads in its own; without it, it does not.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeWhole } from '../../scripts/lib/encode-once.js';
import { fits, indexFrames, patchedTail, type FrameRef } from '../../src/audio/mp3-splice.js';

/** Two seconds of noise under a tone, different per seed: LAME keeps its reservoir in use on it. */
function noise(seed: number, seconds = 2): Int16Array {
  const pcm = new Int16Array(44100 * seconds * 2);
  let s = seed;
  for (let i = 0; i < pcm.length; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    pcm[i] = Math.round((s % 12000) - 6000 + 4000 * Math.sin((i >> 1) * 0.05));
  }
  return pcm;
}

/** The bytes frame `k` decodes from: its reservoir reach-back, then its own data slot. */
function mainData(stream: Buffer, frames: FrameRef[], k: number): Buffer {
  const f = frames[k]!;
  const back: number[] = [];
  for (let j = k - 1; j >= 0 && back.length < f.mainDataBegin; j--) {
    for (let b = frames[j]!.offset + frames[j]!.length - 1; b >= frames[j]!.dataStart && back.length < f.mainDataBegin; b--) back.unshift(stream[b]!);
  }
  return Buffer.concat([Buffer.from(back), stream.subarray(f.dataStart, f.offset + f.length)]);
}

function join(patch: boolean): { ok: boolean; reach: number } {
  const a = encodeWhole(noise(1));
  const b = encodeWhole(noise(2));
  const fa = indexFrames(a);
  const fb = indexFrames(b);
  // The first frame from 40 on where b's frame may follow a's.
  let at = 40;
  while (!fits(fa, at, fb, at)) at++;
  const head = patch ? [a.subarray(0, fa[at - 3]!.offset), ...patchedTail(a, fa, at, b, fb, at)] : [a.subarray(0, fa[at]!.offset)];
  const joined = Buffer.concat([...head, b.subarray(fb[at]!.offset)]);
  const fj = indexFrames(joined);
  assert.equal(fj.length, at + fb.length - at, 'every frame kept');
  return { ok: mainData(joined, fj, at).equals(mainData(b, fb, at)), reach: fb[at]!.mainDataBegin };
}

test("a joined frame reads its own encode's bytes through the reservoir", () => {
  const { ok, reach } = join(true);
  assert.ok(reach > 0, 'the frame reaches back into the reservoir (else the test shows nothing)');
  assert.ok(ok);
});

test('without the patch it reads the other encode’s bytes (the control)', () => {
  assert.equal(join(false).ok, false);
});
