/**
 * The lifecycle contract every long-lived object of both services follows
 * (a channel, a show, an output, the station, the feed, a cache):
 *
 * - `status`: a union of named states, read from outside, never written;
 *   each change emitted as a typed `status` event (EventEmitter<Events>,
 *   with the events spelled out as a type beside the class). A state with
 *   data of its own carries it, so no flag beside the status can disagree
 *   with it: the Icecast source client's attempt, last error and retry
 *   time; a decoder's error; an upcoming song's prepared media.
 * - `close()`: idempotent; a second call returns the first call's promise
 *   (`close() { return (this.closing ??= this.shutdown()); }`), so callers
 *   racing to stop wait for the same end.
 * - time comes in: a Clock given at construction (REAL_CLOCK when none),
 *   never setTimeout/setInterval/Date.now inside, so a test drives timeouts,
 *   backoffs and heartbeats on a fake clock without waiting. Left on real
 *   timers: one-shot bounds inside a single operation (the resolver's
 *   watchdog, a retry's sleep, the encoder's kill-after-close, the front
 *   door's first-bytes timeout, the forced exit), which a test meets by
 *   running the operation.
 */

/** Timers, each returning its cancel function. */
export interface Timers {
  every(ms: number, fn: () => void): () => void;
  after(ms: number, fn: () => void): () => void;
}

/** Timers and the time they run on. */
export interface Clock extends Timers {
  /** Milliseconds, monotonic. */
  now(): number;
  /** The wall clock (for hours and schedules). */
  date(): Date;
}

export const REAL_TIMERS: Timers = {
  every(ms, fn) {
    const t = setInterval(fn, ms);
    return () => clearInterval(t);
  },
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

export const REAL_CLOCK: Clock = {
  ...REAL_TIMERS,
  now: () => performance.now(),
  date: () => new Date(),
};

/**
 * Real timers that never keep the process alive on their own: for
 * background re-reads (a folder's poll, a list's refresh), which the
 * owner's close() cancels but which must not hold a process that forgot to.
 */
export const BACKGROUND_TIMERS: Timers = {
  every(ms, fn) {
    const t = setInterval(fn, ms).unref();
    return () => clearInterval(t);
  },
  after(ms, fn) {
    const t = setTimeout(fn, ms).unref();
    return () => clearTimeout(t);
  },
};
