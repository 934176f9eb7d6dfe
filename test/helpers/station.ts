import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { loadEnv } from '../../src/config/env.js';
import { startStation, type RunningStation } from '../../src/main.js';
import { Watch } from './when.js';

export interface LogCapture {
  lines: Record<string, unknown>[];
  logger: Logger;
  /** Lines whose msg matches. */
  find(re: RegExp): Record<string, unknown>[];
  /** Waits for `check` to give a value, looked at as each line arrives (no polling). */
  when<T>(what: string, check: () => T | undefined, timeoutMs?: number): Promise<T>;
}

/** A pino logger that keeps every line in memory for assertions. */
export function captureLogs(level = 'debug'): LogCapture {
  const lines: Record<string, unknown>[] = [];
  const watch = new Watch();
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      if (process.env.SCAST_TEST_LOGS) process.stderr.write(chunk);
      watch.changed();
      cb();
    },
  });
  const logger = pino({ level }, stream);
  return { lines, logger, find: (re) => lines.filter((l) => re.test(String(l.msg))), when: (what, check, ms) => watch.when(what, check, ms) };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `scast-${prefix}-`));
}

export function writePlaylist(dir: string, id: string, playlist: unknown): string {
  const file = path.join(dir, `${id}.json`);
  writeFileSync(file, JSON.stringify(playlist, null, 2));
  return file;
}

/** A station on a free HTTP port with the given environment on top of test defaults. */
export async function runStation(
  env: Record<string, string>,
  logs = captureLogs(),
  tuning: Parameters<typeof startStation>[2] = {},
): Promise<RunningStation & { logs: LogCapture }> {
  const parsed = loadEnv({
    HTTP_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    CACHE_DIR: tempDir('cache'),
    // The tests' media servers are on loopback, which a station refuses by default.
    MEDIA_ALLOW_HOSTS: '127.0.0.1',
    ...env,
  });
  const running = await startStation(parsed, logs.logger, tuning);
  return Object.assign(running, { logs });
}
