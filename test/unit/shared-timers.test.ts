import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sharedTimers, type Timers } from '../../src/kernel/lifecycle.js';

/** A base whose intervals are counted and fired by hand. */
function fakeBase() {
  const intervals = new Map<number, { ms: number; fn: () => void }>();
  let next = 0;
  const base: Timers = {
    every(ms, fn) {
      const id = next++;
      intervals.set(id, { ms, fn });
      return () => intervals.delete(id);
    },
    after: () => () => undefined,
  };
  const fire = (ms: number) => [...intervals.values()].filter((i) => i.ms === ms).forEach((i) => i.fn());
  return { base, intervals, fire };
}

describe('shared timers (the station clock)', () => {
  test('callbacks of one period share one interval; each stop removes its own; the last stop ends it', () => {
    const { base, intervals, fire } = fakeBase();
    const shared = sharedTimers(base);
    const calls: string[] = [];
    const stopA = shared.every(100, () => calls.push('a'));
    const stopB = shared.every(100, () => calls.push('b'));
    const stopC = shared.every(50, () => calls.push('c'));
    assert.equal(intervals.size, 2, 'one interval per period');
    fire(100);
    assert.deepEqual(calls, ['a', 'b']);
    stopA();
    stopA();
    fire(100);
    assert.deepEqual(calls, ['a', 'b', 'b']);
    stopB();
    assert.equal(intervals.size, 1, 'the 100 ms interval ended with its last callback');
    stopC();
    assert.equal(intervals.size, 0);
  });

  test('a callback that throws does not stop the others of its tick', () => {
    const { base, fire } = fakeBase();
    const errors: unknown[] = [];
    const shared = sharedTimers(base, (err) => errors.push(err));
    const calls: string[] = [];
    shared.every(100, () => {
      throw new Error('boom');
    });
    shared.every(100, () => calls.push('after'));
    fire(100);
    assert.deepEqual(calls, ['after']);
    assert.equal((errors[0] as Error).message, 'boom', 'the error still surfaces, on its own');
  });
});
