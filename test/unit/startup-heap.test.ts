import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { settleHeapAfterStart } from '../../src/kernel/startup-heap.js';

test('start-up garbage is collected once, after the delay, and only where node exposes gc', () => {
  const holder = globalThis as { gc?: () => void };
  const had = holder.gc;
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    delete holder.gc;
    assert.doesNotThrow(() => settleHeapAfterStart(2000), 'without --expose-gc: nothing to call, nothing scheduled');
    let calls = 0;
    holder.gc = () => void calls++;
    settleHeapAfterStart(2000);
    mock.timers.tick(1999);
    assert.equal(calls, 0, 'not before the delay');
    mock.timers.tick(1);
    assert.equal(calls, 1, 'once, at the delay');
    mock.timers.tick(60_000);
    assert.equal(calls, 1, 'never again');
  } finally {
    mock.timers.reset();
    if (had) holder.gc = had;
    else delete holder.gc;
  }
});
