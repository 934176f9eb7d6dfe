import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Dispatcher } from 'undici';
import { DownloadError, reasonOf } from '../errors.js';
import { delay, exponentialBackoff, type RetryPolicy } from '../retry.js';

export interface DownloadOptions {
  maxBytes: number;
  /** Waiting for response headers, and for each body chunk. Default 15 s. */
  idleTimeoutMs?: number;
  /** The whole download, so a trickling endless response ends too. Default 10 min. */
  totalTimeoutMs?: number;
  retry?: RetryPolicy;
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** Called with bytes so far and the announced total, at most once a second. */
  onProgress?: (bytes: number, total: number | undefined) => void;
  dispatcher?: Dispatcher;
}

let agent: Dispatcher | null = null;

/** undici, loaded at the first download (not needed to get on air). */
async function undici(): Promise<typeof import('undici')> {
  return import('undici');
}

/** One agent for all media downloads: keep-alive, and up to 5 redirects followed. */
async function mediaAgent(): Promise<Dispatcher> {
  if (!agent) {
    const { Agent, interceptors } = await undici();
    agent = new Agent({ keepAliveTimeout: 10_000, connections: 16 }).compose(interceptors.redirect({ maxRedirections: 5 }));
  }
  return agent;
}

const defaultRetry = exponentialBackoff({ baseMs: 500, capMs: 5000, maxAttempts: 3 });

/** Content types that are certainly not audio: error pages, captive portals, JSON errors. */
const NOT_AUDIO = /^(text\/|application\/(json|xml|xhtml))/i;

/**
 * Download `url` to `file`. Retries network failures and 5xx by the policy;
 * a 4xx, an HTML page or an oversized body fail at once. On failure the
 * partial file is removed.
 */
export async function downloadToFile(url: string, file: string, opts: DownloadOptions): Promise<{ bytes: number }> {
  const retry = opts.retry ?? defaultRetry;
  for (let attempt = 1; ; attempt++) {
    try {
      return await downloadOnce(url, file, opts);
    } catch (err) {
      await rm(file, { force: true });
      const e = err instanceof DownloadError ? err : new DownloadError(url, reasonOf(err), { retryable: true, cause: err });
      if (opts.signal?.aborted || !e.retryable) throw e;
      const wait = retry(attempt, e);
      if (wait === null) throw e;
      await delay(wait, opts.signal);
    }
  }
}

async function downloadOnce(url: string, file: string, opts: DownloadOptions): Promise<{ bytes: number }> {
  const idle = opts.idleTimeoutMs ?? 15_000;
  const total = AbortSignal.timeout(opts.totalTimeoutMs ?? 600_000);
  const signal = opts.signal ? AbortSignal.any([opts.signal, total]) : total;
  const { request } = await undici();
  const res = await request(url, {
    method: 'GET',
    dispatcher: opts.dispatcher ?? (await mediaAgent()),
    headers: { 'user-agent': 'sCast', ...opts.headers },
    headersTimeout: idle,
    bodyTimeout: idle,
    signal,
  });
  const status = res.statusCode;
  if (status < 200 || status >= 300) {
    res.body.resume();
    throw new DownloadError(url, `HTTP ${status}`, { retryable: status >= 500 || status === 429, status });
  }
  const type = String(res.headers['content-type'] ?? '');
  if (NOT_AUDIO.test(type)) {
    res.body.resume();
    throw new DownloadError(url, `server sent ${type.split(';')[0]}, not audio`, { retryable: false, status });
  }
  const announced = Number(res.headers['content-length']);
  const length = Number.isFinite(announced) && announced > 0 ? announced : undefined;
  if (length !== undefined && length > opts.maxBytes) {
    res.body.destroy();
    throw new DownloadError(url, `${length} bytes is over the ${opts.maxBytes}-byte limit (MAX_DOWNLOAD_MB)`, { retryable: false, status });
  }
  let bytes = 0;
  let lastReport = Date.now();
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      if (bytes > opts.maxBytes) {
        cb(new DownloadError(url, `body exceeds the ${opts.maxBytes}-byte limit (MAX_DOWNLOAD_MB)`, { retryable: false, status }));
        return;
      }
      if (opts.onProgress && Date.now() - lastReport >= 1000) {
        lastReport = Date.now();
        opts.onProgress(bytes, length);
      }
      cb(null, chunk);
    },
  });
  await pipeline(res.body, counter, createWriteStream(file), { signal });
  if (length !== undefined && bytes !== length) {
    throw new DownloadError(url, `truncated: got ${bytes} of ${length} bytes`, { retryable: true, status });
  }
  if (bytes === 0) throw new DownloadError(url, 'empty body', { retryable: false, status });
  return { bytes };
}
