import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ByteQueue } from '../../src/audio/byte-queue.js';

/** Bytes 0, 1, 2, ... from `from`, `n` of them (mod 256): any misplaced byte shows. */
const run = (from: number, n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (from + i) % 256));

describe('byte queue', () => {
  test('gives back what was pushed, in order, across compaction and growth', () => {
    const q = new ByteQueue(64);
    let pushed = 0;
    let taken = 0;
    // Pushes of uneven sizes, taken a little slower than pushed: the queue grows, and is compacted between.
    for (let round = 0; round < 200; round++) {
      const n = 1 + ((round * 37) % 50);
      q.push(run(pushed, n));
      pushed += n;
      const want = (round * 29) % 45;
      const piece = q.peek(want);
      assert.equal(piece.length, Math.min(want, pushed - taken));
      assert.deepEqual(piece, run(taken, piece.length), `round ${round}`);
      q.drop(piece.length);
      taken += piece.length;
      assert.equal(q.length, pushed - taken);
    }
    assert.deepEqual(q.all(), run(taken, pushed - taken));
  });

  test('reuses its buffer: pushing what was taken off allocates nothing new', () => {
    const q = new ByteQueue(1024);
    q.push(run(0, 800));
    const before = q.all().buffer;
    q.drop(700);
    // 100 queued, 800 more: it fits once the 100 are moved to the front.
    q.push(run(800, 800));
    assert.equal(q.all().buffer, before);
    assert.deepEqual(q.all(), run(700, 900));
  });

  test('cleared, it holds nothing and still takes pushes', () => {
    const q = new ByteQueue(16);
    q.push(run(0, 10));
    q.clear();
    assert.equal(q.length, 0);
    q.push(run(5, 3));
    assert.deepEqual(q.all(), run(5, 3));
  });
});
