import type { Logger } from 'pino';
import type * as z from 'zod';
import { playlistSchema, searchSchema, songSchema, songUrlSchema, type Quality, type Song } from '../../src/kernel/api-proxy-contract.js';
import { SongNotFoundError, SongNotPlayableError, UpstreamError, reasonOf } from '../../src/kernel/errors.js';
import type { KvCache } from '../../src/kernel/kv-cache.js';
import { imageType, type ImageType } from '../../src/kernel/image-type.js';
import { SingleFlight } from '../single-flight.js';
import {
  chooseQuality,
  parseLegacyPlaylist,
  parsePlaylist,
  parseSearch,
  parseSongDetail,
  parseVkey,
  vkeyFilename,
  vkeyRequest,
  type VkeyApi,
} from './shapes.js';
import type { QqUpstream } from './upstream.js';

/** Seconds each kind of answer is cached. */
export const TTL = {
  song: 3 * 24 * 3600,
  /** Play URLs: a quarter of their declared life (80400 s declared), capped at 6 h. */
  urlFraction: 0.25,
  urlMax: 6 * 3600,
  notPlayable: 10 * 60,
  /** Short: a station following a playlist (re-read every 15 min by default) sees its owner's edits soon. */
  playlist: 5 * 60,
  search: 10 * 60,
  /** A cover never changes under its id. */
  cover: 30 * 24 * 3600,
  /** No picture: asked again an hour later. */
  noCover: 3600,
} as const;

/** A 500x500 cover is ~30-80 KB. */
const MAX_COVER_BYTES = 2 * 1024 * 1024;

/** A picture ready to send. */
export interface Picture {
  bytes: Buffer;
  type: ImageType;
  cache: 'hit' | 'miss';
}

/** An answer ready to send: validated against the contract when it was made, serialized once. */
export interface Answer {
  body: string;
  cache: 'hit' | 'miss';
}

/** Recently served answers kept in process, so a hit rarely needs a Redis round trip. */
const HOT_MAX_ENTRIES = 5000;
const HOT_MAX_SECONDS = 10;

/**
 * QQ Music through the cache: a hit is answered from memory or Redis; a miss
 * makes one upstream call however many requests ask at once (single-flight),
 * and the answer is cached by kind. Errors are never cached; "not playable"
 * is, briefly. Stored values are `ok:<json>` or `np:{"result","why"}`.
 */
export class QqService {
  private readonly flights = new SingleFlight<Answer>();
  private readonly pictures = new SingleFlight<string>();
  private readonly hot = new Map<string, { stored: string; until: number }>();

  constructor(
    private readonly upstream: QqUpstream,
    private readonly cache: KvCache,
    private readonly log: Logger,
    /** Which play-URL call to make (QQ_VKEY_API). */
    private readonly vkeyApi: VkeyApi = 'GetVkey',
  ) {}

  song(mid: string): Promise<Answer> {
    return this.cached(`qq:song:${mid}`, songSchema, false, () => this.loadSong(mid));
  }

  url(mid: string, quality: Quality, fresh: boolean): Promise<Answer> {
    return this.cached(`qq:url:${quality}:${mid}`, songUrlSchema, fresh, async () => {
      // The media file id can differ from the songmid (paid songs): the detail says (cached).
      const song = songSchema.parse(JSON.parse((await this.song(mid)).body));
      // Known before asking: a VIP-only song, or one with no file of any quality.
      if (!song.playable) throw new SongNotPlayableError(mid, undefined, 'the service marks it pay-to-play (VIP-only)');
      const chosen = chooseQuality(quality, song);
      if (!chosen) throw new SongNotPlayableError(mid, undefined, 'the service lists no file of any quality for it');
      const filename = vkeyFilename(mid, song.mediaMid, chosen);
      const body = await this.upstream.musicu({ req_0: vkeyRequest(this.vkeyApi, mid, filename, this.upstream.guid()) });
      const { ttlSeconds, ...value } = parseVkey(mid, chosen, body, Date.now(), filename);
      return { value, ttl: Math.min(ttlSeconds * TTL.urlFraction, TTL.urlMax) };
    });
  }

  /** @param fresh read upstream now (a station's periodic re-read), caching the answer for others. */
  playlist(id: string, fresh = false): Promise<Answer> {
    return this.cached(`qq:playlist:${id}`, playlistSchema, fresh, async () => {
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
        try {
          parsed = parseLegacyPlaylist(id, await this.upstream.legacyPlaylist(id));
        } catch (legacy) {
          throw new UpstreamError(`${err.message.replace(/^music service failed: /, '')}; the legacy endpoint: ${reasonOf(legacy)}`, { cause: legacy });
        }
      }
      return { value: { id, ...parsed }, ttl: TTL.playlist };
    });
  }

  search(query: string, limit: number): Promise<Answer> {
    return this.cached(`qq:search:${limit}:${query}`, searchSchema, false, async () => {
      const body = await this.upstream.musicu({
        req_0: {
          module: 'music.search.SearchCgiService',
          method: 'DoSearchForQQMusicDesktop',
          // Fewer than 10 per page is refused upstream: ask for 10 and cut.
          param: { query, page_num: 1, num_per_page: Math.max(10, limit), search_type: 0 },
        },
      });
      return { value: { query, songs: parseSearch(body).slice(0, limit) }, ttl: TTL.search };
    });
  }

  /**
   * The song's cover: its album's art, else its first singer's photo, from
   * the image origin. Cached by album (or singer): every song of an album
   * shares one entry. Null when there is none.
   */
  async cover(mid: string): Promise<Picture | null> {
    const song = songSchema.parse(JSON.parse((await this.song(mid)).body));
    const album = song.album?.mid || null;
    const id = album ?? (song.artists[0]?.mid || null);
    // Ids go into a URL path: letters and digits only, as the service's are.
    if (!id || !/^[0-9A-Za-z]{1,64}$/.test(id)) return null;
    const which = album
      ? { key: `qq:cover:album:${id}`, path: `/music/photo_new/T002R500x500M000${id}.jpg` }
      : { key: `qq:cover:singer:${id}`, path: `/music/photo_new/T001R500x500M000${id}.jpg` };
    const stored = await this.cache.getRaw(which.key);
    if (stored !== null) return pictureOf(stored, 'hit');
    const made = await this.pictures.do(which.key, async () => {
      const bytes = await this.upstream.image(which.path, MAX_COVER_BYTES);
      const type = bytes && imageType(bytes);
      if (bytes && !type) this.log.warn({ key: which.key }, 'the image origin answered something that is not a JPEG, PNG or WebP');
      const value = bytes && type ? `img:${type}:${bytes.toString('base64')}` : 'none:';
      await this.cache.setRaw(which.key, value, value === 'none:' ? TTL.noCover : TTL.cover);
      return value;
    });
    return pictureOf(made, 'miss');
  }

  private async loadSong(mid: string): Promise<{ value: Song; ttl: number }> {
    const body = await this.upstream.musicu({
      songinfo: { module: 'music.pf_song_detail_svr', method: 'get_song_detail_yqq', param: { song_mid: mid } },
    });
    return { value: parseSongDetail(mid, body), ttl: TTL.song };
  }

  private async cached<T>(key: string, schema: z.ZodType<T>, fresh: boolean, load: () => Promise<{ value: T; ttl: number }>): Promise<Answer> {
    if (!fresh) {
      const stored = this.fromHot(key) ?? (await this.fromRedis(key));
      if (stored !== null) return this.answer(key, stored, 'hit');
    }
    return this.flights.do(fresh ? `${key}:fresh` : key, async () => {
      let stored: string;
      let ttl: number;
      try {
        const loaded = await load();
        // Validate once, here: what is cached is what the contract promises.
        stored = `ok:${JSON.stringify(schema.parse(loaded.value))}`;
        ttl = loaded.ttl;
      } catch (err) {
        if (!(err instanceof SongNotPlayableError)) {
          if (!(err instanceof SongNotFoundError)) this.log.warn({ key, err: err instanceof Error ? err.message : String(err) }, 'upstream call failed');
          throw err;
        }
        stored = `np:${JSON.stringify({ result: err.result ?? null, why: err.why ?? null })}`;
        ttl = TTL.notPlayable;
      }
      await this.cache.setRaw(key, stored, ttl);
      this.remember(key, stored, ttl);
      return this.answer(key, stored, 'miss');
    });
  }

  private answer(key: string, stored: string, cache: 'hit' | 'miss'): Answer {
    if (stored.startsWith('np:')) {
      const mid = key.slice(key.lastIndexOf(':') + 1);
      const raw = stored.slice(3);
      // Older entries hold the result code alone.
      const np = raw.startsWith('{') ? (JSON.parse(raw) as { result: number | null; why: string | null }) : { result: raw ? Number(raw) : null, why: null };
      throw new SongNotPlayableError(mid, np.result ?? undefined, np.why ?? undefined);
    }
    return { body: stored.slice(3), cache };
  }

  private fromHot(key: string): string | null {
    const e = this.hot.get(key);
    if (!e) return null;
    if (e.until < Date.now()) {
      this.hot.delete(key);
      return null;
    }
    return e.stored;
  }

  private async fromRedis(key: string): Promise<string | null> {
    const stored = await this.cache.getRaw(key);
    if (stored !== null) this.remember(key, stored, HOT_MAX_SECONDS);
    return stored;
  }

  private remember(key: string, stored: string, ttl: number): void {
    if (this.hot.size >= HOT_MAX_ENTRIES) this.hot.delete(this.hot.keys().next().value!);
    this.hot.set(key, { stored, until: Date.now() + Math.min(ttl, HOT_MAX_SECONDS) * 1000 });
  }
}

/** A stored picture (`img:<type>:<base64>`, or `none:`) as sent. */
function pictureOf(stored: string, cache: 'hit' | 'miss'): Picture | null {
  const m = /^img:(jpeg|png|webp):(.+)$/s.exec(stored);
  return m ? { bytes: Buffer.from(m[2]!, 'base64'), type: m[1] as ImageType, cache } : null;
}
