/**
 * What every sCast command does around its composition root: validate the
 * environment (exit 2 naming every bad variable), start, and stop cleanly on
 * SIGTERM/SIGINT within a bound. Shared by the streamer and api-proxy.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino, type Logger } from 'pino';
import { ConfigError, reasonOf } from './errors.js';
import { prettyStream, wantsPretty } from './log-format.js';
import { installProcessGuard } from './process-guard.js';

/** Whether the module at `moduleUrl` is the script node was asked to run. */
export function isEntry(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  const strip = (u: string) => u.replace(/\.[jt]s$/, '');
  return strip(pathToFileURL(path.resolve(script)).href) === strip(moduleUrl);
}

export interface ServiceOptions<E extends { LOG_LEVEL: string; LOG_FORMAT: 'auto' | 'json' | 'pretty' }, R extends { close(): Promise<void> }> {
  /** Name in logs and messages: `streamer`, `api-proxy`. */
  service: string;
  loadEnv: () => Readonly<E>;
  start: (env: Readonly<E>, logger: Logger) => Promise<R>;
  /** Logged when a stop signal arrives. */
  stopping?: string;
  /** Exit anyway this long after a stop signal. Default 4.5 s (Docker's grace period is 10 s, the brief asks for 5). */
  forceStopMs?: number;
}

export async function runService<E extends { LOG_LEVEL: string; LOG_FORMAT: 'auto' | 'json' | 'pretty' }, R extends { close(): Promise<void> }>(
  opts: ServiceOptions<E, R>,
): Promise<void> {
  let env: Readonly<E>;
  try {
    env = opts.loadEnv();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${opts.service} cannot start: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const pretty = wantsPretty(env.LOG_FORMAT, process.stdout.isTTY);
  const logger = pino({ level: env.LOG_LEVEL, base: { service: opts.service } }, pretty ? prettyStream(process.stdout) : undefined);
  installProcessGuard(logger);
  // Stop signals are handled from before start-up: outputs go live while the
  // rest is still starting, and a SIGTERM then must drain too, not kill.
  let running: R | null = null;
  let stopping = false;
  const drain = (r: R): void => {
    r.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err: reasonOf(err) }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, opts.stopping ?? 'stopping');
    const forceMs = opts.forceStopMs ?? 4500;
    setTimeout(() => {
      logger.warn(`stop took longer than ${forceMs} ms; exiting anyway`);
      process.exit(0);
    }, forceMs);
    if (running) drain(running);
    // else: drained as soon as start-up has finished, below.
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  try {
    running = await opts.start(env, logger);
  } catch (err) {
    logger.fatal({ err: reasonOf(err) }, `${opts.service} cannot start: ${reasonOf(err)}`);
    process.exit(1);
  }
  if (stopping) drain(running);
}
