/**
 * The station in AzuraCast's now-playing shape (see azuracast-schema.ts):
 * `/api/nowplaying`, `/api/nowplaying/<channel>`, `/api/station/<channel>`,
 * `/api/stations`. A channel is an AzuraCast station: its id is the
 * shortcode; the numeric id AzuraCast also gives is derived from it, so it
 * stays the same across restarts and edits of other channels.
 */
import { createHash } from 'node:crypto';
import type { Channel } from '../playout/channel.js';
import type { HistoryEntry } from '../playout/on-air.js';
import type { TrackInfo } from '../acquire/track-info.js';
import { displayTitle } from '../playout/now-playing.js';
import type { AzNowPlaying, AzSong, AzStation } from './azuracast-schema.js';
import { artView, channelView, type ViewContext } from './views.js';

/** How many songs `song_history` lists (AzuraCast's default is 5; the page shows 10). */
export const AZ_HISTORY = 10;

/** A stable positive 31-bit number for a channel id (FNV-1a), AzuraCast's `station.id`. */
export function stationNumber(id: string): number {
  let h = 0x811c9dc5;
  for (const ch of Buffer.from(id, 'utf8')) {
    h ^= ch;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 1 || 1;
}

/** The channel a route's `station` parameter names: its id (shortcode) or its numeric id. */
export function channelByStation(channels: readonly Channel[], station: string): Channel | undefined {
  return channels.find((c) => c.id === station) ?? (/^\d{1,10}$/.test(station) ? channels.find((c) => stationNumber(c.id) === Number(station)) : undefined);
}

const unix = (iso: string): number => Math.floor(Date.parse(iso) / 1000);
const seconds = (ms: number | null | undefined): number => (ms ? Math.round(ms / 1000) : 0);

/** `art`: the picture's absolute URL. */
export function azSong(t: Pick<TrackInfo, 'title' | 'artist' | 'album'>, art: string): AzSong {
  const text = displayTitle(t);
  return {
    // AzuraCast hashes the song's metadata, so one song has one id wherever it plays.
    id: createHash('md5').update(text.trim().toLowerCase()).digest('hex'),
    text,
    artist: t.artist ?? null,
    title: t.title,
    album: t.album ?? null,
    genre: null,
    isrc: null,
    lyrics: null,
    art,
    custom_fields: [],
  };
}

/** The DJ whose show a live entry of the history was. */
function djAt(c: Channel, startedAt: string): string | null {
  const t = Date.parse(startedAt);
  return c.shows.find((s) => Date.parse(s.startedAt) <= t && (s.endedAt === null || Date.parse(s.endedAt) >= t))?.dj ?? null;
}

function played(c: Channel, e: HistoryEntry | NonNullable<Channel['nowPlaying']>, ctx: ViewContext) {
  return {
    // Unique within the channel's history: the millisecond its first audio went out.
    sh_id: Date.parse(e.startedAt) % 2_147_483_647,
    played_at: unix(e.startedAt),
    duration: seconds(e.durationMs),
    playlist: e.source === 'live' ? '' : (e.block ?? c.playlist.name),
    streamer: e.source === 'live' ? (djAt(c, e.startedAt) ?? '') : '',
    is_request: e.request === true,
    song: azSong(e, artView(e, c, ctx).coverUrl),
  };
}

export function azStation(c: Channel, ctx: ViewContext): AzStation {
  const view = channelView(c, ctx);
  const base = ctx.publicUrl();
  const builtin = view.listeners - view.listenersIcecast;
  const count = (n: number, unique = n) => ({ total: n, unique, current: n });
  const mounts = [
    ...view.listen.icecast.map((url, i) => ({ url, name: `${c.playlist.mount} (Icecast)`, listeners: count(ctx.stats?.icecastAt(i, c.playlist.mount) ?? 0) })),
    ...(view.listen.builtin ? [{ url: view.listen.builtin, name: `${c.playlist.mount} (built-in)`, listeners: count(builtin, view.listenersUnique) }] : []),
  ]
    .map((m) => ({ ...m, bitrate: c.playlist.bitrate, format: 'mp3', path: c.playlist.mount }))
    .concat(
      view.renditions.flatMap((r) =>
        [...r.listen.icecast.map((url) => ({ url, where: 'Icecast' })), ...(r.listen.builtin ? [{ url: r.listen.builtin, where: 'built-in' }] : [])].map(
          ({ url, where }) => ({
            url,
            name: `${r.mount} (${where})`,
            listeners: count(
              where === 'Icecast'
                ? (ctx.stats?.icecastNow(r.mount) ?? 0)
                : (ctx.outputsOf(c)?.renditions.find((o) => o.rendition.spec.mount === r.mount)?.hub?.count ?? 0),
            ),
            bitrate: r.bitrate,
            format: r.codec,
            path: r.mount,
          }),
        ),
      ),
    )
    .map((m, i) => ({ id: i + 1, ...m, is_default: i === 0 }));
  return {
    id: stationNumber(c.id),
    name: c.playlist.name,
    shortcode: c.id,
    description: c.playlist.description ?? '',
    frontend: 'icecast',
    backend: 'scast',
    timezone: c.playlist.timezone,
    listen_url: mounts[0]?.url ?? `${base}${c.playlist.mount}`,
    url: c.playlist.url ?? null,
    public_player_url: `${base}/${encodeURIComponent(c.id)}`,
    playlist_pls_url: `${base}${c.playlist.mount}.pls`,
    playlist_m3u_url: `${base}${c.playlist.mount}.m3u`,
    is_public: c.playlist.public,
    requests_enabled: c.playlist.requests !== null,
    mounts,
    remotes: [],
    hls_enabled: view.listen.hls !== null,
    hls_is_default: false,
    hls_url: view.listen.hls,
    hls_listeners: ctx.outputsOf(c)?.hls?.listeners ?? 0,
  };
}

export function azNowPlaying(c: Channel, ctx: ViewContext): AzNowPlaying {
  const view = channelView(c, ctx);
  const show = c.liveShow;
  const np = c.nowPlaying;
  const now = Date.now();
  let nowPlaying: AzNowPlaying['now_playing'] = null;
  if (np) {
    const elapsed = Math.max(0, Math.round((now - Date.parse(np.startedAt)) / 1000));
    const duration = seconds(np.durationMs);
    nowPlaying = { ...played(c, np, ctx), elapsed, remaining: duration ? Math.max(0, duration - elapsed) : 0 };
  }
  const next = view.next;
  // Expected to start as the song on air ends, its crossfade earlier.
  const due = np?.durationMs ? Date.parse(np.startedAt) + np.durationMs - c.playlist.crossfade * 1000 : null;
  return {
    station: azStation(c, ctx),
    // Icecast does not say how many of its listeners are distinct: each counts as one.
    listeners: { total: view.listeners, unique: view.listenersUnique + view.listenersIcecast, current: view.listeners },
    live: {
      is_live: show !== null,
      streamer_name: show?.dj ?? '',
      broadcast_start: show ? unix(show.startedAt) : null,
      art: null,
    },
    now_playing: nowPlaying,
    playing_next:
      next && !show
        ? {
            cued_at: Math.floor(now / 1000),
            played_at: due === null ? null : Math.floor(due / 1000),
            duration: next.durationMs ? next.durationMs / 1000 : 0,
            playlist: c.playlist.name,
            is_request: false,
            song: azSong({ title: next.title, artist: next.artist ?? undefined, album: next.album ?? undefined }, artView(null, c, ctx).coverUrl),
          }
        : null,
    song_history: c.history.slice(0, AZ_HISTORY).map((h) => played(c, h, ctx)),
    is_online: view.onAir,
    cache: 'station',
  };
}
