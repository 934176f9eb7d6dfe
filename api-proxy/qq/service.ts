import type { Logger } from 'pino';
import type { Quality, QqPlaylist, Song, SongUrl } from '../../src/contracts/api-proxy.js';
import { SongNotFoundError, SongNotPlayableError, UpstreamError } from '../../src/errors.js';
import type { KvCache } from '../../src/media/kv-cache.js';
import { SingleFlight } from '../single-flight.js';
import { parseLegacyPlaylist, parsePlaylist, parseSearch, parseSongDetail, parseVkey, vkeyFilename } from './shapes.js';
import type { QqUpstream } from './upstream.js';

/** Seconds each kind of answer is cached. */
export const TTL = {
  song: 3 * 24 * 3600,
  /** Play URLs: a quarter of their declared life (80400 s declared), capped at 6 h. */
  urlFraction: 0.25,
  urlMax: 6 * 3600,
  notPlayable: 10 * 60,
  playlist: 3600,
  search: 10 * 60,
} as const;

export interface Answer<T> {
  value: T;
  cache: 'hit' | 'miss';
}

type Cached<T> = { ok: T } | { notPlayable: number | null };

/**
 * QQ Music through the cache: a hit is answered from Redis; a miss makes one
 * upstream call however many requests ask at once (single-flight), and the
 * answer is cached by kind. Errors are never cached; "not playable" is, briefly.
 */
export class QqService {
  private readonly flights = new SingleFlight<Answer<unknown>>();

  constructor(
    private readonly upstream: QqUpstream,
    private readonly cache: KvCache,
    private readonly log: Logger,
  ) {}

  song(mid: string): Promise<Answer<Song>> {
    return this.cached(`qq:song:${mid}`, false, async () => {
      const body = await this.upstream.musicu({
        songinfo: { module: 'music.pf_song_detail_svr', method: 'get_song_detail_yqq', param: { song_mid: mid } },
      });
      return { value: parseSongDetail(mid, body), ttl: TTL.song };
    });
  }

  url(mid: string, quality: Quality, fresh: boolean): Promise<Answer<SongUrl>> {
    return this.cached(`qq:url:${quality}:${mid}`, fresh, async () => {
      // The media file id can differ from the songmid (paid songs): ask the detail first (cached).
      const { value: song } = await this.song(mid);
      const guid = this.upstream.guid();
      const body = await this.upstream.musicu({
        req_0: {
          module: 'vkey.GetVkeyServer',
          method: 'CgiGetVkey',
          param: { filename: [vkeyFilename(mid, song.mediaMid, quality)], guid, songmid: [mid], songtype: [0], uin: '0', loginflag: 1, platform: '20' },
        },
      });
      const { ttlSeconds, ...value } = parseVkey(mid, quality, body);
      return { value, ttl: Math.min(ttlSeconds * TTL.urlFraction, TTL.urlMax) };
    });
  }

  playlist(id: string): Promise<Answer<QqPlaylist>> {
    return this.cached(`qq:playlist:${id}`, false, async () => {
      let parsed: { title: string; total: number; songs: Song[] };
      try {
        const body = await this.upstream.musicu({
          req_0: {
            module: 'music.srfDissInfo.aiDissInfo',
            method: 'uniform_get_Dissinfo',
            param: { disstid: Number(id), userinfo: 1, tag: 1, orderlist: 1, song_begin: 0, song_num: 1000, onlysonglist: 0, enc_host_uin: '' },
          },
        });
        parsed = parsePlaylist(id, body);
      } catch (err) {
        if (!(err instanceof UpstreamError)) throw err;
        // The newer call failed outright: the legacy endpoint may still answer.
        this.log.info({ playlist: id, err: err.message }, 'playlist call failed; trying the legacy endpoint');
        parsed = parseLegacyPlaylist(id, await this.upstream.legacyPlaylist(id));
      }
      return { value: { id, ...parsed }, ttl: TTL.playlist };
    });
  }

  search(query: string, limit: number): Promise<Answer<Song[]>> {
    return this.cached(`qq:search:${limit}:${query}`, false, async () => {
      const body = await this.upstream.musicu({
        req_0: {
          module: 'music.search.SearchCgiService',
          method: 'DoSearchForQQMusicDesktop',
          // Fewer than 10 per page is refused upstream: ask for 10 and cut.
          param: { query, page_num: 1, num_per_page: Math.max(10, limit), search_type: 0 },
        },
      });
      return { value: parseSearch(body).slice(0, limit), ttl: TTL.search };
    });
  }

  private async cached<T>(key: string, fresh: boolean, load: () => Promise<{ value: T; ttl: number }>): Promise<Answer<T>> {
    if (!fresh) {
      const hit = await this.cache.get<Cached<T>>(key);
      if (hit) {
        if ('ok' in hit) return { value: hit.ok, cache: 'hit' };
        throw Object.assign(new SongNotPlayableError(key.split(':').pop()!, hit.notPlayable ?? undefined), { fromCache: true });
      }
    }
    const flightKey = fresh ? `${key}:fresh` : key;
    return this.flights.do(flightKey, async () => {
      try {
        const { value, ttl } = await load();
        await this.cache.set(key, { ok: value } satisfies Cached<T>, ttl);
        return { value, cache: 'miss' as const };
      } catch (err) {
        if (err instanceof SongNotPlayableError) {
          await this.cache.set(key, { notPlayable: err.result ?? null } satisfies Cached<T>, TTL.notPlayable);
        }
        if (!(err instanceof SongNotPlayableError) && !(err instanceof SongNotFoundError)) {
          this.log.warn({ key, err: err instanceof Error ? err.message : String(err) }, 'upstream call failed');
        }
        throw err;
      }
    }) as Promise<Answer<T>>;
  }
}
