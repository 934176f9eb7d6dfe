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

/**
 * Timers whose `every` calls of one period share one interval: ten channels
 * ticking every 100 ms wake node once a tick instead of ten times (each
 * wake-up costs ~0.25 ms of CPU here). A callback that throws does not keep
 * the others of its tick from running; its error is thrown on its own.
 */
export function sharedTimers(
  base: Timers = REAL_TIMERS,
  onError: (err: unknown) => void = (err) =>
    queueMicrotask(() => {
      throw err;
    }),
): Timers {
  const groups = new Map<number, { fns: Set<() => void>; stop: () => void }>();
  return {
    after: (ms, fn) => base.after(ms, fn),
    every(ms, fn) {
      let group = groups.get(ms);
      if (!group) {
        const fns = new Set<() => void>();
        const run = (): void => {
          for (const f of [...fns]) {
            try {
              f();
            } catch (err) {
              onError(err);
            }
          }
        };
        group = { fns, stop: base.every(ms, run) };
        groups.set(ms, group);
      }
      const g = group;
      // Its own entry: one function registered twice runs twice, and each stop removes one.
      const entry = (): void => fn();
      g.fns.add(entry);
      return () => {
        if (!g.fns.delete(entry)) return;
        if (g.fns.size === 0) {
          g.stop();
          groups.delete(ms);
        }
      };
    },
  };
}

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
