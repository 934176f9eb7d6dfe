import { randomInt } from 'node:crypto';
import { Agent, request, errors as undiciErrors, type Dispatcher } from 'undici';
import { RateLimitedError, ResponseTooLargeError, UpstreamError, UpstreamTimeoutError, reasonOf } from '../../src/kernel/errors.js';
import { readCapped, readCappedBytes } from '../../src/kernel/http-body.js';
import { Semaphore } from '../../src/kernel/semaphore.js';

export interface UpstreamOptions {
  apiBase: string;
  cBase: string;
  /** Origin of pictures (y.gtimg.cn). Default https://y.gtimg.cn. */
  imageBase?: string;
  /** Path of the musicu call on apiBase. Default /cgi-bin/musicu.fcg. */
  musicuPath?: string;
  /** Path of the legacy playlist call on cBase. Default /qzone/fcg-bin/fcg_ucc_getcdinfo_byids_cp.fcg. */
  legacyPlaylistPath?: string;
  timeoutMs: number;
  concurrency: number;
  /** Largest answer body read, in bytes; a bigger one is an upstream failure. */
  maxBodyBytes: number;
}

/** What the real web player sends; the API answers differently without them. */
const HEADERS = {
  referer: 'https://y.qq.com/',
  origin: 'https://y.qq.com',
  'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
};

/**
 * The QQ Music web API, and nothing else: every URL is built from the
 * configured origins, so no request can steer the proxy to another host.
 */
export class QqUpstream {
  /** Upstream HTTP calls made, for tests and metrics. */
  calls = 0;
  private readonly limit: Semaphore;
  private readonly dispatcher: Dispatcher;

  constructor(private readonly opts: UpstreamOptions) {
    this.limit = new Semaphore(opts.concurrency);
    this.dispatcher = new Agent({ keepAliveTimeout: 30_000, connections: opts.concurrency });
  }

  get inFlight(): number {
    return this.limit.inFlight;
  }

  /** Random digits, as the web player's `guid`. */
  guid(): string {
    return String(randomInt(1_000_000_000, 9_999_999_999));
  }

  /** One musicu.fcg call with one or more request keys; returns the parsed body. */
  musicu(payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    const body = JSON.stringify({ comm: { uin: '0', format: 'json', ct: 24, cv: 0 }, ...payload });
    return this.json(`${this.opts.apiBase}${this.opts.musicuPath ?? '/cgi-bin/musicu.fcg'}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    });
  }

  /** The legacy playlist endpoint on c.y.qq.com. */
  legacyPlaylist(disstid: string): Promise<Record<string, unknown>> {
    const q = new URLSearchParams({ type: '1', json: '1', utf8: '1', onlysong: '0', disstid, format: 'json' });
    return this.json(`${this.opts.cBase}${this.opts.legacyPlaylistPath ?? '/qzone/fcg-bin/fcg_ucc_getcdinfo_byids_cp.fcg'}?${q}`, {
      method: 'GET',
      headers: { referer: 'https://y.qq.com/n/yqq/playlist' },
    });
  }

  /** A picture on the image origin (`path` built by the caller from ids); null when it is not there (404). */
  image(path: string, maxBytes: number): Promise<Buffer | null> {
    return this.limit.run(async () => {
      this.calls++;
      const timeoutMs = this.opts.timeoutMs;
      try {
        const res = await request(`${this.opts.imageBase ?? 'https://y.gtimg.cn'}${path}`, {
          method: 'GET',
          headers: HEADERS,
          dispatcher: this.dispatcher,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (res.statusCode === 404) {
          res.body.resume();
          return null;
        }
        if (res.statusCode < 200 || res.statusCode >= 300) {
          res.body.resume();
          throw new UpstreamError(`picture: HTTP ${res.statusCode}`);
        }
        return await readCappedBytes(res.body, maxBytes, 'the music service', res.headers['content-length']);
      } catch (err) {
        if (err instanceof UpstreamError) throw err;
        if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) throw new UpstreamTimeoutError(timeoutMs);
        throw new UpstreamError(`picture: ${reasonOf(err)}`, { cause: err });
      }
    });
  }

  private closing: Promise<void> | undefined;

  /** A second call returns the first's promise. */
  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    await this.dispatcher.close();
  }

  private json(url: string, init: { method: 'GET' | 'POST'; body?: string; headers: Record<string, string> }): Promise<Record<string, unknown>> {
    return this.limit.run(async () => {
      this.calls++;
      let status: number;
      let text: string;
      try {
        const res = await request(url, {
          method: init.method,
          body: init.body,
          headers: { ...HEADERS, ...init.headers },
          dispatcher: this.dispatcher,
          headersTimeout: this.opts.timeoutMs,
          bodyTimeout: this.opts.timeoutMs,
          signal: AbortSignal.timeout(this.opts.timeoutMs),
        });
        status = res.statusCode;
        // Capped before buffering: N concurrent huge answers cost N * cap at most.
        text = await readCapped(res.body, this.opts.maxBodyBytes, 'the music service', res.headers['content-length']);
      } catch (err) {
        if (err instanceof ResponseTooLargeError) throw new UpstreamError(err.message, { cause: err });
        if (
          err instanceof undiciErrors.HeadersTimeoutError ||
          err instanceof undiciErrors.BodyTimeoutError ||
          (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))
        ) {
          throw new UpstreamTimeoutError(this.opts.timeoutMs);
        }
        throw new UpstreamError(reasonOf(err), { cause: err });
      }
      if (status === 429) throw new RateLimitedError(`the music service answered 429`);
      if (status < 200 || status >= 300) throw new UpstreamError(`HTTP ${status}`);
      let parsed: unknown;
      try {
        // Some endpoints wrap JSON in a callback: strip `name(...)`.
        parsed = JSON.parse(text.trim().replace(/^[\w$.]+\(([\s\S]*)\);?$/, '$1'));
      } catch {
        throw new UpstreamError(`malformed JSON (${text.slice(0, 60).replace(/\s+/g, ' ')})`);
      }
      if (typeof parsed !== 'object' || parsed === null) throw new UpstreamError('answer is not a JSON object');
      return parsed as Record<string, unknown>;
    });
  }
}
