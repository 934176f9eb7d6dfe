import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Dispatcher, buildConnector } from 'undici';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { AddressRefusedError, DownloadError, reasonOf } from '../kernel/errors.js';
import { plainAddress, type AddressPolicy } from '../config/address-policy.js';
import { delay, exponentialBackoff, type RetryPolicy } from '../kernel/retry.js';
import { discardBody } from '../kernel/http-body.js';

export interface DownloadOptions {
  maxBytes: number;
  /** Which addresses may be connected to, checked at every connection (redirects and DNS answers included). */
  policy: AddressPolicy;
  /** Waiting for response headers, and for each body chunk. Default 15 s. */
  idleTimeoutMs?: number;
  /** The whole download, so a trickling endless response ends too. Default 5 min. */
  totalTimeoutMs?: number;
  /** A body slower than this many bytes per `slowWindowMs` is given up on. Default 64 KiB per 20 s (~26 kbit/s). */
  minBytesPerWindow?: number;
  slowWindowMs?: number;
  retry?: RetryPolicy;
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** Called with bytes so far and the announced total, at most once a second. */
  onProgress?: (bytes: number, total: number | undefined) => void;
  dispatcher?: Dispatcher;
}

const agents = new WeakMap<AddressPolicy, Dispatcher>();

/** undici, loaded at the first download (not needed to get on air). */
async function undici(): Promise<typeof import('undici')> {
  return import('undici');
}

/**
 * One keep-alive agent per address policy. Every connection it opens is
 * checked where the address is known: names through the DNS lookup it
 * makes (so a name that resolves to 127.0.0.1 is caught, and no second
 * lookup can answer differently), literal addresses before connecting.
 */
export async function mediaAgent(policy: AddressPolicy): Promise<Dispatcher> {
  let agent = agents.get(policy);
  if (!agent) {
    const { Agent, buildConnector } = await undici();
    const lookup: LookupFunction = (hostname, options, callback) => {
      dnsLookup(hostname, { ...options, all: true }, (err, found) => {
        if (err) return callback(err, '', 4);
        const ok = found.filter((a) => policy.allows(a.address, hostname));
        if (ok.length === 0) return callback(new AddressRefusedError(hostname, found[0]?.address ?? '?'), '', 4);
        if (options.all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, ok);
        else callback(null, ok[0]!.address, ok[0]!.family);
      });
    };
    const connect = buildConnector({ lookup } as buildConnector.BuildOptions);
    agent = new Agent({
      keepAliveTimeout: 10_000,
      connections: 16,
      connect: (opts, callback) => {
        const host = plainAddress(opts.hostname);
        if (isIP(host) !== 0 && !policy.allows(host)) {
          callback(new AddressRefusedError(host, host), null);
          return;
        }
        connect(opts, callback);
      },
    });
    agents.set(policy, agent);
  }
  return agent;
}

/** Redirects followed at most; each hop is checked like the first URL. */
const MAX_REDIRECTS = 5;

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
      const refused = causeOf(err, AddressRefusedError);
      const e = err instanceof DownloadError ? err : new DownloadError(url, reasonOf(refused ?? err), { retryable: refused === null, cause: err });
      if (opts.signal?.aborted || !e.retryable) throw e;
      const wait = retry(attempt, e);
      if (wait === null) throw e;
      await delay(wait, opts.signal);
    }
  }
}

/** GET `url`, following redirects only to http(s) URLs, each hop checked by the policy. */
async function requestFollowing(url: string, opts: DownloadOptions, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
  const idle = opts.idleTimeoutMs ?? 15_000;
  const { request } = await undici();
  const dispatcher = opts.dispatcher ?? (await mediaAgent(opts.policy));
  let at = url;
  for (let hop = 0; ; hop++) {
    const res = await request(at, {
      method: 'GET',
      dispatcher,
      headers: { 'user-agent': 'sCast', ...opts.headers },
      headersTimeout: idle,
      bodyTimeout: idle,
      signal,
    });
    const location = res.headers.location;
    if (res.statusCode < 300 || res.statusCode >= 400 || res.statusCode === 304 || typeof location !== 'string') return res;
    discardBody(res.body);
    if (hop >= MAX_REDIRECTS) throw new DownloadError(url, `more than ${MAX_REDIRECTS} redirects`, { retryable: false, status: res.statusCode });
    let next: URL;
    try {
      next = new URL(location, at);
    } catch {
      throw new DownloadError(url, 'redirected to a malformed location', { retryable: false, status: res.statusCode });
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new DownloadError(url, `redirected to a ${next.protocol} URL; only http and https are followed`, { retryable: false, status: res.statusCode });
    }
    at = next.href;
  }
}

/** The first error of class `type` in `err`'s cause chain (undici wraps connector errors). */
function causeOf<T extends Error>(err: unknown, type: new (...args: never[]) => T): T | null {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) if (e instanceof type) return e;
  return null;
}

async function downloadOnce(url: string, file: string, opts: DownloadOptions): Promise<{ bytes: number }> {
  const total = AbortSignal.timeout(opts.totalTimeoutMs ?? 300_000);
  const signal = opts.signal ? AbortSignal.any([opts.signal, total]) : total;
  const res = await requestFollowing(url, opts, signal);
  const status = res.statusCode;
  if (status < 200 || status >= 300) {
    discardBody(res.body);
    throw new DownloadError(url, `HTTP ${status}`, { retryable: status >= 500 || status === 429, status });
  }
  const type = String(res.headers['content-type'] ?? '');
  if (NOT_AUDIO.test(type)) {
    discardBody(res.body);
    throw new DownloadError(url, `server sent ${type.split(';')[0]}, not audio`, { retryable: false, status });
  }
  const announced = Number(res.headers['content-length']);
  const length = Number.isFinite(announced) && announced > 0 ? announced : undefined;
  if (length !== undefined && length > opts.maxBytes) {
    discardBody(res.body);
    throw new DownloadError(url, `${length} bytes is over the ${opts.maxBytes}-byte limit (MAX_DOWNLOAD_MB)`, { retryable: false, status });
  }
  let bytes = 0;
  let lastReport = Date.now();
  const minBytes = opts.minBytesPerWindow ?? 64 * 1024;
  const windowMs = opts.slowWindowMs ?? 20_000;
  let windowStart = Date.now();
  let windowBytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      windowBytes += chunk.length;
      const t = Date.now();
      if (t - windowStart >= windowMs) {
        // A trickle (1 byte a second) never trips the idle timeout: rate does.
        if (windowBytes < minBytes) {
          cb(
            new DownloadError(
              url,
              `too slow: ${windowBytes} bytes in ${Math.round((t - windowStart) / 1000)} s (at least ${minBytes} per ${windowMs / 1000} s)`,
              { retryable: false, status },
            ),
          );
          return;
        }
        windowStart = t;
        windowBytes = 0;
      }
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
