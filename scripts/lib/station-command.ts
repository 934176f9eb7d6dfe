/**
 * How the station is launched wherever it ships: `npm start`, the
 * Dockerfile and docker-compose.yml say the same (a unit test holds them
 * to it), and the benchmarks start it this way so they measure what ships.
 *
 * `--single-threaded-gc`: V8 collects on the main thread only. A station's
 * heap is small and short-lived (a tick's buffers), and handing that to
 * helper threads cost more in wake-ups and hand-offs than it saved: one
 * channel, eight interleaved pairs of 45 s runs, 0.04-0.23 % of a core
 * less in seven, equal in one (tones 1.60 -> 1.40, music 1.27 -> 1.04;
 * docs/benchmarks.md).
 * It cannot be set from inside: V8 aborts when it is changed at run time.
 *
 * `--initial-old-space-size=32`: V8 starts a full collection whenever the
 * old generation's room under its limit is less than the young
 * generation's size, and a station's heap (16-18 MB with ten channels) sat
 * there all the time: a mark-compact every 1.5-3 s. Starting the limit at
 * 32 MB: 6 in 30 s instead of 8-14, ~0.5 % of a core less (docs/architecture.md).
 *
 * `--expose-gc`: lets the station collect start-up's garbage once, when it
 * is on air (kernel/startup-heap.ts); nothing else calls it.
 */
export const STATION_NODE_ARGS = ['--single-threaded-gc', '--initial-old-space-size=32', '--expose-gc', 'dist/src/main.js'] as const;

/**
 * The station's environment, set before node starts (glibc reads it once).
 *
 * `MALLOC_ARENA_MAX=1`: every thread allocates from glibc's one arena. Node
 * starts a dozen threads (V8's workers, libuv's pool); each that allocates
 * gets its own arena, whose freed pages stay resident, while the station's
 * work is on one thread. One tones channel, PSS after 55 s: 81.2, 81.4 MB
 * against 86.0, 86.5, 85.9 (CPU within run-to-run noise).
 */
export const STATION_ENV = { MALLOC_ARENA_MAX: '1' } as const;

/** STATION_ENV as a shell prefix (`npm start`). */
export const STATION_ENV_PREFIX = Object.entries(STATION_ENV)
  .map(([k, v]) => `${k}=${v}`)
  .join(' ');
