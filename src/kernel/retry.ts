/**
 * Retry policies: pure functions from (attempt, error) to a delay in ms, or
 * null to give up. Injected wherever something is retried, so tests drive
 * them deterministically (fake timers, a fixed `random`).
 */
export type RetryPolicy = (attempt: number, err: unknown) => number | null;

export interface BackoffOptions {
  /** First delay in ms. */
  baseMs: number;
  /** Delays never exceed this. */
  capMs: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** Give up after this many attempts (1-based). Default: never. */
  maxAttempts?: number;
  /** Source of randomness in [0, 1); injectable for tests. */
  random?: () => number;
}

/**
 * Capped exponential backoff with "equal jitter": half the step is fixed,
 * half random, so many clients restarted together spread out while none
 * waits longer than `capMs`.
 */
export function exponentialBackoff(opts: BackoffOptions): RetryPolicy {
  const factor = opts.factor ?? 2;
  const random = opts.random ?? Math.random;
  return (attempt) => {
    if (opts.maxAttempts !== undefined && attempt > opts.maxAttempts) return null;
    const step = Math.min(opts.capMs, opts.baseMs * factor ** Math.max(0, attempt - 1));
    return Math.round(step / 2 + (random() * step) / 2);
  };
}

/** Resolve after `ms`, or at once (rejecting) when the signal aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
