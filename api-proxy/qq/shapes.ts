/**
 * Reading QQ Music's answers (shared/reference/qq-music-api.md) into sCast's
 * models. Pure: JSON in, values or typed errors out.
 */
import * as z from 'zod';
import { QUALITY_EXT, type Quality, type Song, type SongUrl } from '../../src/kernel/api-proxy-contract.js';
import { RateLimitedError, SongNotFoundError, SongNotPlayableError, UpstreamCredentialError, UpstreamError } from '../../src/kernel/errors.js';

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
  pay: z.looseObject({ pay_play: z.number().optional() }).optional(),
});
type TrackInfo = z.output<typeof trackInfoSchema>;

/** Which `file.size_*` field says a quality's file exists (track-info style, then legacy names). */
const SIZE_FIELDS: Record<Quality, readonly string[]> = {
  C400: ['size_96aac', 'size_aac'],
  C600: ['size_192aac'],
  M500: ['size_128mp3', 'size128'],
  M800: ['size_320mp3', 'size320'],
  F000: ['size_flac', 'sizeflac'],
};

/** The qualities a song has a file of, from its size fields (empty when it gives none). */
export function qualitiesOf(sizes: Record<string, unknown> | undefined): Quality[] {
  if (!sizes) return [];
  return (Object.keys(SIZE_FIELDS) as Quality[]).filter((q) => SIZE_FIELDS[q].some((f) => typeof sizes[f] === 'number' && (sizes[f] as number) > 0));
}

/**
 * The quality to ask a play URL for: the one asked, if the song has it (or
 * does not say); else the first it has, by a listener's preference.
 * Null: it says it has none.
 */
export function chooseQuality(asked: Quality, song: Pick<Song, 'qualities'>): Quality | null {
  if (song.qualities.length === 0 || song.qualities.includes(asked)) return asked;
  const order: Quality[] = ['C400', 'M500', 'C600', 'M800', 'F000'];
  return order.find((q) => song.qualities.includes(q)) ?? null;
}

/** Legacy playlist songs use other names for the same things. */
const legacySongSchema = z.looseObject({
  songmid: z.string().min(1),
  songname: z.string().default(''),
  singer: z.array(named).default([]),
  albummid: z.string().default(''),
  albumname: z.string().default(''),
  interval: z.number().optional(),
  strMediaMid: z.string().optional(),
  pay: z.looseObject({ payplay: z.number().optional() }).optional(),
});

/** Codes QQ Music uses for "too many requests from you". */
const FREQUENCY_CODES = new Set([2001, 104400]);

/** A refused request, as current clients read the codes: the signature (2000) or the login (1000). */
function refused(code: number): Error | null {
  if (code === 2000) return new UpstreamCredentialError('signature', `music service code ${code}: request signature invalid`);
  if (code === 1000) return new UpstreamCredentialError('credential', `music service code ${code}: login credential expired`);
  if (FREQUENCY_CODES.has(code)) return new RateLimitedError(`music service code ${code}`);
  return null;
}

/** The `code`/`data` of one request key, failing on a top-level or per-key error. */
export function part(body: Record<string, unknown>, key: string): Record<string, unknown> {
  const top = body.code;
  if (typeof top === 'number' && top !== 0) throw refused(top) ?? new UpstreamError(`music service code ${top}`);
  const entry = body[key];
  if (typeof entry !== 'object' || entry === null) throw new UpstreamError(`answer has no "${key}"`);
  const { code, data } = entry as { code?: unknown; data?: unknown };
  if (typeof code === 'number' && code !== 0) throw refused(code) ?? new UpstreamError(`"${key}" answered code ${code}`);
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
    playable: t.pay?.pay_play !== 1,
    qualities: qualitiesOf(t.file),
  };
}

/** A legacy-shaped song (`songmid`, `songname`, sizes at the top level). */
export function songFromLegacy(v: z.output<typeof legacySongSchema>): Song {
  const album = v.albummid ? { mid: v.albummid, name: v.albumname } : null;
  return {
    mid: v.songmid,
    title: v.songname || v.songmid,
    artists: v.singer.map((x) => ({ mid: x.mid, name: x.name })),
    album,
    coverUrl: coverUrl(album?.mid, v.singer[0]?.mid),
    durationMs: v.interval !== undefined ? v.interval * 1000 : null,
    mediaMid: v.strMediaMid || null,
    playable: v.pay?.payplay !== 1,
    qualities: qualitiesOf(v),
  };
}

/**
 * One playlist item, in either shape answers come in (track-info style
 * `mid`/`name`/`file.media_mid`, or legacy `songmid`/`songname`); null when
 * it is neither.
 */
export function songFromItem(item: unknown): Song | null {
  const modern = trackInfoSchema.safeParse(item);
  if (modern.success) return songFromTrackInfo(modern.data);
  const legacy = legacySongSchema.safeParse(item);
  return legacy.success ? songFromLegacy(legacy.data) : null;
}

/** The songs of a playlist's items; items that parse as neither shape are dropped, but all of them failing is an error. */
function songsOf(id: string, items: unknown[]): Song[] {
  const songs = items.flatMap((t) => {
    const song = songFromItem(t);
    return song ? [song] : [];
  });
  if (items.length > 0 && songs.length === 0) throw new UpstreamError(`playlist ${id}: none of its ${items.length} items could be read (neither shape)`);
  return songs;
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
  midurlinfo: z
    .array(
      z.looseObject({
        songmid: z.string().optional(),
        filename: z.string().optional(),
        purl: z.string().default(''),
        wifiurl: z.string().default(''),
        result: z.number().optional(),
      }),
    )
    .min(1),
  sip: z.array(z.string()).default([]),
  expiration: z.number().optional(),
});

/** Which play-URL call: current clients' `music.vkey.GetVkey` (`UrlGetVkey`, reading `wifiurl`), or the older `vkey.GetVkeyServer` (`CgiGetVkey`, `purl`). */
export type VkeyApi = 'GetVkey' | 'CgiGetVkey';

/** The request key for a play URL, by call. */
export function vkeyRequest(api: VkeyApi, mid: string, filename: string, guid: string): Record<string, unknown> {
  const param = { filename: [filename], guid, songmid: [mid], songtype: [0], uin: '0', loginflag: 1, platform: '20' };
  return api === 'GetVkey' ? { module: 'music.vkey.GetVkey', method: 'UrlGetVkey', param } : { module: 'vkey.GetVkeyServer', method: 'CgiGetVkey', param };
}

/**
 * The play URL from a vkey answer (either call): a CDN host from `sip` (the
 * first that does not start with http://ws, as wrappers do) plus the path
 * (`wifiurl`, else `purl`). An empty path means "not playable for this
 * caller", which is an answer, not a failure. An answer for another file
 * than the one asked (another song, another quality) is refused.
 */
export function parseVkey(mid: string, quality: Quality, body: Record<string, unknown>, now = Date.now(), filename?: string): SongUrl & { ttlSeconds: number } {
  const parsed = vkeySchema.safeParse(part(body, 'req_0'));
  if (!parsed.success) throw new UpstreamError(`unexpected vkey answer for ${mid}`);
  const info = parsed.data.midurlinfo.find((i) => i.songmid === undefined || i.songmid === mid);
  if (!info) throw new UpstreamError(`vkey answer for ${mid} is for another song (${parsed.data.midurlinfo[0]?.songmid})`);
  const file = info.wifiurl || info.purl;
  if (!file) throw new SongNotPlayableError(mid, info.result);
  const named = info.filename || file.split('?')[0]!.split('/').pop()!;
  if (filename && named !== filename) throw new UpstreamError(`vkey answer for ${mid} is for file ${named}, not the ${filename} asked for`);
  const sip = parsed.data.sip.find((s) => !s.startsWith('http://ws')) ?? parsed.data.sip[0];
  if (!sip) throw new UpstreamError(`vkey answer for ${mid} lists no CDN host`);
  const expiration = parsed.data.expiration ?? 80400;
  const url = new URL(file, sip.endsWith('/') ? sip : `${sip}/`).toString();
  return { mid, quality, url, expiresAt: new Date(now + expiration * 1000).toISOString(), ttlSeconds: expiration };
}

export function parsePlaylist(id: string, body: Record<string, unknown>): { title: string; total: number; songs: Song[] } {
  const data = part(body, 'req_0');
  const list = Array.isArray(data.songlist) ? data.songlist : null;
  if (!list) throw new UpstreamError(`unexpected playlist answer for ${id}`);
  const dirinfo = (data.dirinfo ?? {}) as { title?: unknown };
  if (list.length === 0 && !dirinfo.title) throw new SongNotFoundError(`playlist ${id}`);
  const songs = songsOf(id, list);
  return {
    title: typeof dirinfo.title === 'string' ? dirinfo.title : id,
    total: typeof data.total_song_num === 'number' ? data.total_song_num : songs.length,
    songs,
  };
}

/** The legacy c.y.qq.com playlist shape: `cdlist[0].songlist[]`. */
export function parseLegacyPlaylist(id: string, body: Record<string, unknown>): { title: string; total: number; songs: Song[] } {
  const cd = Array.isArray(body.cdlist) ? (body.cdlist[0] as Record<string, unknown> | undefined) : undefined;
  if (!cd || !Array.isArray(cd.songlist)) throw new SongNotFoundError(`playlist ${id}`);
  const songs = songsOf(id, cd.songlist);
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
