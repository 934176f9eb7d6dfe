import type { Dispatcher } from 'undici';
import type * as z from 'zod';
import type { Logger } from 'pino';
import { errorSchema, playlistSchema, songSchema, songUrlSchema, type QqPlaylist, type Song, type SongUrl } from '../kernel/api-proxy-contract.js';
import type { QqTrack } from '../config/playlist.js';
import { ApiProxyError, ResponseTooLargeError, reasonOf } from '../kernel/errors.js';
import { discardBody, readCapped, readCappedBytes } from '../kernel/http-body.js';
import type { KvCache } from '../kernel/kv-cache.js';
import type { RemoteProvider, ResolvedRemote } from './resolver.js';

export interface QqProviderOptions {
  baseUrl: string;
  token: string;
  cache: KvCache;
  logger: Logger;
  /** Per request to the proxy. Default 10 s. */
  timeoutMs?: number;
}

/** A song or play-URL answer is a few hundred bytes; anything near this is not api-proxy. */
const MAX_ANSWER_BYTES = 1024 * 1024;
/** A 500x500 cover is ~50 KB. */
const MAX_COVER_BYTES = 4 * 1024 * 1024;

/**
 * QQ Music songs for the streamer, through api-proxy: metadata and a play
 * URL, cached (Redis when configured, else memory). The media itself is then
 * downloaded from the CDN by the resolver, from wherever the streamer runs.
 */
export class QqProvider implements RemoteProvider {
  private dispatcher: Dispatcher | null = null;

  constructor(private readonly opts: QqProviderOptions) {}

  async resolve(track: QqTrack, opts: { fresh: boolean; signal?: AbortSignal }): Promise<ResolvedRemote> {
    const song = await this.song(track.id, opts.signal);
    const url = await this.url(track.id, opts.fresh, opts.signal);
    return {
      url: url.url,
      cacheKey: `qq:${track.id}:${url.quality}`,
      info: {
        title: song.title,
        artist: song.artists.map((a) => a.name).join(' / ') || undefined,
        album: song.album?.name || undefined,
        durationMs: song.durationMs ?? undefined,
      },
    };
  }

  /**
   * The song's cover (album art, else its singer's photo) as api-proxy
   * fetched and cached it; null when the service has none (404).
   */
  async cover(track: QqTrack, signal?: AbortSignal): Promise<Buffer | null> {
    const timer = AbortSignal.timeout(this.timeoutMs);
    try {
      const res = await this.send(`/v1/qq/songs/${track.id}/cover`, 'image/*', timer, signal);
      if (res.statusCode !== 200) {
        discardBody(res.body);
        if (res.statusCode === 404) return null;
        throw new ApiProxyError('SCAST_UPSTREAM_FAILED', `cover of ${track.id}: answered ${res.statusCode}`, res.statusCode);
      }
      return await readCappedBytes(res.body, MAX_COVER_BYTES, 'api-proxy', res.headers['content-length']);
    } catch (err) {
      throw this.failure(err, timer);
    }
  }

  /**
   * A QQ Music playlist as api-proxy reads it now. The last good answer is
   * kept (Redis when configured): when the proxy or the service fails, it
   * is answered instead, marked stale with the reason.
   */
  async playlist(id: string, opts: { fresh?: boolean; signal?: AbortSignal } = {}): Promise<{ playlist: QqPlaylist; stale: string | null }> {
    const key = `scast:qq:playlist:${id}`;
    try {
      const playlist = await this.get(`/v1/qq/playlists/${id}${opts.fresh ? '?fresh=1' : ''}`, playlistSchema, opts.signal);
      await this.opts.cache.set(key, playlist, 30 * 24 * 3600);
      return { playlist, stale: null };
    } catch (err) {
      const last = await this.lastPlaylist(id);
      if (!last) throw err;
      return { playlist: last, stale: reasonOf(err) };
    }
  }

  /** The playlist as last read, if kept: a restarted station plays it before the proxy answers. */
  async lastPlaylist(id: string): Promise<QqPlaylist | null> {
    const hit = await this.opts.cache.get<unknown>(`scast:qq:playlist:${id}`);
    const parsed = playlistSchema.safeParse(hit);
    return parsed.success ? parsed.data : null;
  }

  private closing: Promise<void> | undefined;

  /** A second call returns the first's promise. */
  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    await this.dispatcher?.close();
  }

  private async song(mid: string, signal?: AbortSignal): Promise<Song> {
    const key = `scast:qq:song:${mid}`;
    const hit = await this.opts.cache.get<Song>(key);
    if (hit) return hit;
    const song = await this.get(`/v1/qq/songs/${mid}`, songSchema, signal);
    await this.opts.cache.set(key, song, 3 * 24 * 3600);
    return song;
  }

  private async url(mid: string, fresh: boolean, signal?: AbortSignal): Promise<SongUrl> {
    const key = `scast:qq:url:${mid}`;
    if (!fresh) {
      const hit = await this.opts.cache.get<SongUrl>(key);
      if (hit && Date.parse(hit.expiresAt) - Date.now() > 10 * 60_000) return hit;
    }
    const url = await this.get(`/v1/qq/songs/${mid}/url${fresh ? '?fresh=1' : ''}`, songUrlSchema, signal);
    const life = (Date.parse(url.expiresAt) - Date.now()) / 1000;
    if (life > 60) await this.opts.cache.set(key, url, life / 4);
    return url;
  }

  private get timeoutMs(): number {
    return this.opts.timeoutMs ?? 10_000;
  }

  /** One GET to api-proxy with the token, on a kept-alive agent (a playlist resolves many songs in a row). */
  private async send(path: string, accept: string, timer: AbortSignal, signal?: AbortSignal): Promise<Dispatcher.ResponseData> {
    const { Agent, request } = await import('undici');
    this.dispatcher ??= new Agent({ keepAliveTimeout: 30_000, connections: 4 });
    return request(new URL(path, this.opts.baseUrl), {
      method: 'GET',
      headers: { authorization: `Bearer ${this.opts.token}`, accept },
      dispatcher: this.dispatcher,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      signal: signal ? AbortSignal.any([signal, timer]) : timer,
    });
  }

  /** What went wrong talking to api-proxy, as one error: timed out (504), too large or unreachable (502), or its own. */
  private failure(err: unknown, timer: AbortSignal): ApiProxyError {
    if (err instanceof ApiProxyError) return err;
    if (err instanceof ResponseTooLargeError) return new ApiProxyError('SCAST_UPSTREAM_FAILED', err.message, 502);
    return timer.aborted
      ? new ApiProxyError('SCAST_UPSTREAM_TIMEOUT', `no answer within ${this.timeoutMs} ms`, 504)
      : new ApiProxyError('SCAST_UPSTREAM_FAILED', `unreachable (${reasonOf(err)})`, 502);
  }

  private async get<T extends z.ZodType>(path: string, schema: T, signal?: AbortSignal): Promise<z.output<T>> {
    const timer = AbortSignal.timeout(this.timeoutMs);
    let status: number;
    let body: unknown;
    try {
      const res = await this.send(path, 'application/json', timer, signal);
      status = res.statusCode;
      const text = await readCapped(res.body, MAX_ANSWER_BYTES, 'api-proxy', res.headers['content-length']);
      try {
        body = JSON.parse(text);
      } catch {
        throw new ApiProxyError('SCAST_UPSTREAM_FAILED', `answered ${status} with non-JSON (${text.slice(0, 60)})`, 502);
      }
    } catch (err) {
      throw this.failure(err, timer);
    }
    if (status !== 200) {
      const e = errorSchema.safeParse(body);
      if (e.success) throw new ApiProxyError(e.data.error.code, e.data.error.message, status);
      throw new ApiProxyError('SCAST_UPSTREAM_FAILED', `answered ${status}`, status);
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw new ApiProxyError('SCAST_UPSTREAM_FAILED', `unexpected answer for ${path}: ${parsed.error.issues[0]?.message}`, 502);
    return parsed.data;
  }
}
