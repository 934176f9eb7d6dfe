/**
 * The last line of defence: an exception nothing caught, or a promise
 * rejection nobody handled, is logged and counted, and the station keeps
 * serving. Every cause this catches is a bug to fix (the adversarial suite
 * asserts the count stays 0); the guard only keeps one such bug from taking
 * every channel off air.
 */
import type { Logger } from 'pino';
import { reasonOf } from './errors.js';

/** Faults the guard caught since start, read by /metrics and /health. */
export const processFaults = { uncaught: 0, lastError: null as string | null };

let installed = false;

export function installProcessGuard(logger: Logger, logEveryMs = 10_000): void {
  if (installed) return;
  installed = true;
  let lastLog = 0;
  let quiet = 0;
  const caught = (kind: string, err: unknown): void => {
    processFaults.uncaught += 1;
    processFaults.lastError = reasonOf(err);
    const t = Date.now();
    if (t - lastLog < logEveryMs) {
      quiet += 1;
      return;
    }
    lastLog = t;
    const stack = err instanceof Error ? err.stack : undefined;
    logger.error({ err: reasonOf(err), stack, alsoSince: quiet }, `${kind} caught by the process guard; still on air (this is a bug: please report it)`);
    quiet = 0;
  };
  process.on('uncaughtException', (err) => caught('uncaught exception', err));
  process.on('unhandledRejection', (err) => caught('unhandled promise rejection', err));
}
