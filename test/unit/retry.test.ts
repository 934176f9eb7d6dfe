import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IcecastAuthError, IcecastConnectionError, IcecastMountBusyError, IcecastRefusedError } from '../../src/kernel/errors.js';
import { icecastRetryPolicy } from '../../src/outputs/icecast/retry.js';
import { exponentialBackoff } from '../../src/kernel/retry.js';

describe('retry policies', () => {
  test('exponential backoff grows, is capped, and jitters within half a step', () => {
    const lo = exponentialBackoff({ baseMs: 100, capMs: 1000, random: () => 0 });
    const hi = exponentialBackoff({ baseMs: 100, capMs: 1000, random: () => 0.999999 });
    assert.deepEqual(
      [1, 2, 3, 4, 5, 9].map((a) => lo(a, null)),
      [50, 100, 200, 400, 500, 500],
    );
    assert.deepEqual(
      [1, 2, 3, 4, 5, 9].map((a) => hi(a, null)),
      [100, 200, 400, 800, 1000, 1000],
    );
  });

  test('gives up after maxAttempts when asked to', () => {
    const p = exponentialBackoff({ baseMs: 10, capMs: 100, maxAttempts: 2, random: () => 0.5 });
    assert.notEqual(p(2, null), null);
    assert.equal(p(3, null), null);
  });

  test('Icecast: never gives up; transient failures stay under a second, refusals wait longer', () => {
    const policy = icecastRetryPolicy({ capMs: 600, random: () => 0.999999 });
    const down = new IcecastConnectionError('h:1', '/m', 'ECONNREFUSED');
    const busy = new IcecastMountBusyError('h:1', '/m');
    for (let attempt = 1; attempt < 10_000; attempt *= 3) {
      const d = policy(attempt, down)!;
      assert.ok(d > 0 && d <= 600, `attempt ${attempt}: ${d}`);
      assert.ok(policy(attempt, busy)! <= 600);
    }
    assert.equal(policy(1, new IcecastAuthError('h:1', '/m', 'source')), 5000);
    assert.equal(policy(50, new IcecastRefusedError('h:1', '/m', 400, 'bad')), 5000);
    assert.equal(icecastRetryPolicy({ capMs: 600, refusedDelayMs: 1234 })(1, new IcecastAuthError('h', '/m', 's')), 1234);
  });
});
