import { IcecastAuthError, IcecastRefusedError } from '../../kernel/errors.js';
import { exponentialBackoff, type RetryPolicy } from '../../kernel/retry.js';

export interface IcecastRetryOptions {
  /** Longest wait for transient failures (unreachable, reset, mount busy). */
  capMs: number;
  /** Wait after a refusal a retry cannot fix by itself (wrong password, bad request). */
  refusedDelayMs?: number;
  random?: () => number;
}

/**
 * Never gives up: a radio keeps trying, the first connection included.
 * Transient failures back off from 50 ms up to `capMs` (default 600 ms, so
 * the station is back within a second of Icecast's return); refusals wait
 * `refusedDelayMs` (default 5 s) so a wrong password is no hot loop.
 */
export function icecastRetryPolicy(opts: IcecastRetryOptions): RetryPolicy {
  const transient = exponentialBackoff({ baseMs: 50, capMs: opts.capMs, random: opts.random });
  const refusedDelayMs = opts.refusedDelayMs ?? Math.max(5000, opts.capMs);
  return (attempt, err) => {
    if (err instanceof IcecastAuthError || err instanceof IcecastRefusedError) return refusedDelayMs;
    return transient(attempt, err);
  };
}
