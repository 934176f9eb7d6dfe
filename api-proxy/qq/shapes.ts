/**
 * Reading QQ Music's answers (shared/reference/qq-music-api.md) into sCast's
 * models. Pure: JSON in, values or typed errors out.
 */
import * as z from 'zod';
import { QUALITY_EXT, type Quality, type Song, type SongUrl } from '../../src/contracts/api-proxy.js';
import { RateLimitedError, SongNotFoundError, SongNotPlayableError, UpstreamError } from '../../src/errors.js';

const named = z.looseObject({ mid: z.string().default(''), name: z.string().default('') });
export const trackInfoSchema = z.looseObject({
  mid: z.string().min(1),
  id: z.number().optional(),
  title: z.string().optional(),
  name: z.string().optional(),
  singer: z.array(named).default([]),
  album: named.optional(),
  interval: z.number().optional(),
  file: z.looseObject({ media_mid: z.string().optional() }).optional(),
});
type TrackInfo = z.output<typeof trackInfoSchema>;

/** Legacy playlist songs use other names for the same things. */
const legacySongSchema = z.looseObject({
  songmid: z.string().min(1),
  songname: z.string().default(''),
  singer: z.array(named).default([]),
  albummid: z.string().default(''),
  albumname: z.string().default(''),
  interval: z.number().optional(),
  strMediaMid: z.string().optional(),
});

/** Codes QQ Music uses for "too many requests from you". */
const FREQUENCY_CODES = new Set([2000, 2001, 104400]);

/** The `code`/`data` of one request key, failing on a top-level or per-key error. */
export function part(body: Record<string, unknown>, key: string): Record<string, unknown> {
  const top = body.code;
  if (typeof top === 'number' && top !== 0) {
    if (FREQUENCY_CODES.has(top)) throw new RateLimitedError(`music service code ${top}`);
    throw new UpstreamError(`music service code ${top}`);
  }
  const entry = body[key];
  if (typeof entry !== 'object' || entry === null) throw new UpstreamError(`answer has no "${key}"`);
  const { code, data } = entry as { code?: unknown; data?: unknown };
  if (typeof code === 'number' && code !== 0) {
    if (FREQUENCY_CODES.has(code)) throw new RateLimitedError(`music service code ${code}`);
    throw new UpstreamError(`"${key}" answered code ${code}`);
  }
  if (typeof data !== 'object' || data === null) throw new UpstreamError(`"${key}" has no data`);
  return data as Record<string, unknown>;
}

export function coverUrl(albumMid: string | undefined, singerMid: string | undefined): string | null {
  if (albumMid) return `https://y.gtimg.cn/music/photo_new/T002R500x500M000${albumMid}.jpg`;
  if (singerMid) return `https://y.gtimg.cn/music/photo_new/T001R500x500M000${singerMid}.jpg`;
  return null;
}

export function songFromTrackInfo(t: TrackInfo): Song {
  const album = t.album && t.album.mid ? { mid: t.album.mid, name: t.album.name } : null;
  return {
    mid: t.mid,
    title: t.title || t.name || t.mid,
    artists: t.singer.map((s) => ({ mid: s.mid, name: s.name })),
    album,
    coverUrl: coverUrl(album?.mid, t.singer[0]?.mid),
    durationMs: t.interval !== undefined ? Math.round(t.interval * 1000) : null,
    mediaMid: t.file?.media_mid || null,
  };
}

/** `songinfo.data.track_info` of a song detail answer. */
export function parseSongDetail(mid: string, body: Record<string, unknown>): Song {
  const data = part(body, 'songinfo');
  const info = data.track_info as Record<string, unknown> | undefined;
  // Unknown songs come back with an empty track_info (no mid, id 0).
  if (!info || !info.mid || info.id === 0) throw new SongNotFoundError(`song ${mid}`);
  const parsed = trackInfoSchema.safeParse(info);
  if (!parsed.success) throw new UpstreamError(`unexpected track_info for ${mid}: ${parsed.error.issues[0]?.message}`);
  return songFromTrackInfo(parsed.data);
}

export function vkeyFilename(mid: string, mediaMid: string | null, quality: Quality): string {
  return `${quality}${mid}${mediaMid ?? mid}.${QUALITY_EXT[quality]}`;
}

const vkeySchema = z.looseObject({
  midurlinfo: z.array(z.looseObject({ songmid: z.string().optional(), purl: z.string().default(''), result: z.number().optional() })).min(1),
  sip: z.array(z.string()).default([]),
  expiration: z.number().optional(),
});

/**
 * The play URL from a vkey answer: a CDN host from `sip` (the first that does
 * not start with http://ws, as wrappers do) plus `purl`. An empty purl means
 * "not playable for this caller", which is an answer, not a failure.
 */
export function parseVkey(mid: string, quality: Quality, body: Record<string, unknown>, now = Date.now()): SongUrl & { ttlSeconds: number } {
  const parsed = vkeySchema.safeParse(part(body, 'req_0'));
  if (!parsed.success) throw new UpstreamError(`unexpected vkey answer for ${mid}`);
  const info = parsed.data.midurlinfo[0]!;
  if (!info.purl) throw new SongNotPlayableError(mid, info.result);
  const sip = parsed.data.sip.find((s) => !s.startsWith('http://ws')) ?? parsed.data.sip[0];
  if (!sip) throw new UpstreamError(`vkey answer for ${mid} lists no CDN host`);
  const expiration = parsed.data.expiration ?? 80400;
  const url = new URL(info.purl, sip.endsWith('/') ? sip : `${sip}/`).toString();
  return { mid, quality, url, expiresAt: new Date(now + expiration * 1000).toISOString(), ttlSeconds: expiration };
}

export function parsePlaylist(id: string, body: Record<string, unknown>): { title: string; total: number; songs: Song[] } {
  const data = part(body, 'req_0');
  const list = Array.isArray(data.songlist) ? data.songlist : null;
  if (!list) throw new UpstreamError(`unexpected playlist answer for ${id}`);
  const dirinfo = (data.dirinfo ?? {}) as { title?: unknown };
  if (list.length === 0 && !dirinfo.title) throw new SongNotFoundError(`playlist ${id}`);
  const songs = list.flatMap((t) => {
    const parsed = trackInfoSchema.safeParse(t);
    return parsed.success ? [songFromTrackInfo(parsed.data)] : [];
  });
  return { title: typeof dirinfo.title === 'string' ? dirinfo.title : id, total: typeof data.total_song_num === 'number' ? data.total_song_num : songs.length, songs };
}

/** The legacy c.y.qq.com playlist shape: `cdlist[0].songlist[]`. */
export function parseLegacyPlaylist(id: string, body: Record<string, unknown>): { title: string; total: number; songs: Song[] } {
  const cd = Array.isArray(body.cdlist) ? (body.cdlist[0] as Record<string, unknown> | undefined) : undefined;
  if (!cd || !Array.isArray(cd.songlist)) throw new SongNotFoundError(`playlist ${id}`);
  const songs = cd.songlist.flatMap((s) => {
    const p = legacySongSchema.safeParse(s);
    if (!p.success) return [];
    const v = p.data;
    const album = v.albummid ? { mid: v.albummid, name: v.albumname } : null;
    const song: Song = {
      mid: v.songmid,
      title: v.songname || v.songmid,
      artists: v.singer.map((x) => ({ mid: x.mid, name: x.name })),
      album,
      coverUrl: coverUrl(album?.mid, v.singer[0]?.mid),
      durationMs: v.interval !== undefined ? v.interval * 1000 : null,
      mediaMid: v.strMediaMid || null,
    };
    return [song];
  });
  return { title: typeof cd.dissname === 'string' ? cd.dissname : id, total: songs.length, songs };
}

export function parseSearch(body: Record<string, unknown>): Song[] {
  const data = part(body, 'req_0');
  const list = (((data.body as Record<string, unknown> | undefined)?.song as Record<string, unknown> | undefined)?.list ?? null) as unknown[] | null;
  if (!Array.isArray(list)) throw new UpstreamError('unexpected search answer');
  return list.flatMap((t) => {
    const parsed = trackInfoSchema.safeParse(t);
    return parsed.success ? [songFromTrackInfo(parsed.data)] : [];
  });
}
