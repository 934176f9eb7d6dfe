/**
 * One full collection shortly after the station is on air, for start-up's
 * garbage (module code, schemas, the first decoders' set-up): ~10 MB in a
 * ~28 MB heap. Left to V8, it is collected 3-10 s in and the heap then
 * shrunk by two more collections 8 s later (its memory reducer), while the
 * first songs play: one tones channel's peak memory (PSS, process and
 * decoders, 10-55 s after it went live) was 85-101 MB, with this 81-85 MB
 * (four interleaved pairs, docs/benchmarks.md); CPU the same.
 *
 * Needs node's `--expose-gc` (scripts/lib/station-command.ts); started
 * without it, nothing happens.
 */
export function settleHeapAfterStart(delayMs = 2000): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') return;
  setTimeout(() => gc(), delayMs).unref();
}
