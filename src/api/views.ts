import { fallbackTitle } from '../acquire/resolver.js';
import path from 'node:path';
import type { Channel, LiveShowRecord } from '../playout/channel.js';
import type { NowPlaying } from '../playout/now-playing.js';
import type { ChannelOutputs } from '../outputs/output-set.js';
import type { IcecastOutput } from '../outputs/icecast/output.js';
import { processFaults } from '../kernel/process-guard.js';
import type { ChannelView } from './messages.js';
import type { ListenerStats } from '../outputs/listener-stats.js';
import { DEFAULT_ART_PATH, artPath, type ArtLinks } from '../outputs/art-links.js';

export interface ViewContext {
  outputsOf: (c: Channel) => ChannelOutputs | undefined;
  /** Base URL of this server as listeners reach it. */
  publicUrl: () => string;
  /** Public bases of the Icecast servers. */
  icecastUrls: readonly string[];
  /** Listener figures over time, with Icecast's own counts; absent: the built-in output's count only. */
  stats?: ListenerStats | undefined;
  /** Which picture stands for a song; absent: a song's own or the built-in one. */
  art?: ArtLinks | undefined;
}

/** A song's picture (its own, its channel's, the station's): root-relative and absolute. */
export function artView(song: { artId?: string | undefined } | null, c: Channel, ctx: ViewContext): { art: string; coverUrl: string } {
  const art = ctx.art ? ctx.art.path(song, c.playlist) : song?.artId ? artPath(song.artId) : DEFAULT_ART_PATH;
  return { art, coverUrl: `${ctx.publicUrl()}${art}` };
}

/** Listeners now: the built-in output's, plus Icecast's as last read. */
export function listenersOf(c: Channel, ctx: ViewContext): { builtin: number; icecast: number } {
  const outputs = ctx.outputsOf(c);
  const mounts = [c.playlist.mount, ...c.playlist.renditions.map((r) => r.mount)];
  const builtin = (outputs?.hub?.count ?? 0) + (outputs?.renditions ?? []).reduce((n, r) => n + (r.hub?.count ?? 0), 0);
  // HLS clients are counted with the built-in output's: the station serves both.
  return { builtin: builtin + (outputs?.hls?.listeners ?? 0), icecast: mounts.reduce((n, m) => n + (ctx.stats?.icecastNow(m) ?? 0), 0) };
}

/** Each rendition: where to listen, and who does. */
export function renditionViews(c: Channel, ctx: ViewContext) {
  const outputs = ctx.outputsOf(c)?.renditions ?? [];
  return c.playlist.renditions.map((r) => {
    const hub = outputs.find((o) => o.rendition.spec.mount === r.mount)?.hub ?? null;
    return {
      codec: r.codec,
      bitrate: r.bitrate,
      mount: r.mount,
      listen: { builtin: hub ? `${ctx.publicUrl()}${r.mount}` : null, icecast: ctx.icecastUrls.map((u) => `${u}${r.mount}`) },
      listeners: (hub?.count ?? 0) + (ctx.stats?.icecastNow(r.mount) ?? 0),
    };
  });
}

export function nowPlayingView(np: NowPlaying, c: Channel, ctx: ViewContext) {
  return {
    title: np.title,
    artist: np.artist ?? null,
    album: np.album ?? null,
    ...artView(np, c, ctx),
    durationMs: np.durationMs ?? null,
    startedAt: np.startedAt,
    elapsedMs: Math.max(0, Date.now() - Date.parse(np.startedAt)),
    ...(np.streamPos === undefined ? {} : { streamPos: Math.round(np.streamPos * 1000) / 1000 }),
    ...(np.source === 'live' ? { live: true } : {}),
    ...(np.source === 'live' ? {} : { block: np.block ?? null }),
    ...(np.jingle ? { jingle: true } : {}),
    ...(np.request ? { request: true } : {}),
  };
}

export function nextView(c: Channel): ChannelView['next'] {
  const next = c.next;
  if (!next) return null;
  // A song not prepared yet is named as its title will be: the file's or URL's last name, never a folder, host or query.
  const title = 'key' in next ? next.title : (next.title ?? fallbackTitle(next));
  return { title, artist: next.artist ?? null, album: next.album ?? null, ...('key' in next && next.durationMs ? { durationMs: next.durationMs } : {}) };
}

/** Songs that played, as the public sees them: titles and times, not keys or paths; how each left if early; live shows. */
export function historyView(c: Channel, ctx: ViewContext) {
  return c.history.map((h) => ({
    ...nowPlayingView(h, c, ctx),
    elapsedMs: undefined,
    endedAt: h.endedAt,
    ...(h.end ? { end: h.end } : {}),
  }));
}

/** A live show as the API and the feed show it: the recording by its file name only. */
export function liveShowView(s: LiveShowRecord) {
  return { ...s, recording: s.recording ? path.basename(s.recording) : null };
}

export function icecastOutputView(o: IcecastOutput) {
  return {
    kind: 'icecast' as const,
    server: o.server,
    connected: o.client.state === 'streaming',
    status: o.client.state,
    // A spare's refusal ("mount in use") is its job, not an error.
    lastError: o.client.state === 'spare' ? null : (o.client.lastError?.message ?? null),
  };
}

/** A channel as the API and the WebSocket snapshot show it. */
export function channelView(c: Channel, ctx: ViewContext): ChannelView {
  const outputs = ctx.outputsOf(c);
  return {
    id: c.id,
    name: c.playlist.name,
    mount: c.playlist.mount,
    description: c.playlist.description ?? null,
    genre: c.playlist.genre ?? null,
    bitrate: c.playlist.bitrate,
    onAir: c.status === 'on-air',
    listen: {
      builtin: outputs?.hub ? `${ctx.publicUrl()}${c.playlist.mount}` : null,
      icecast: ctx.icecastUrls.map((u) => `${u}${c.playlist.mount}`),
      hls: outputs?.hls ? `${ctx.publicUrl()}/hls/${encodeURIComponent(c.id)}/live.m3u8` : null,
    },
    renditions: renditionViews(c, ctx),
    art: artView(null, c, ctx).art,
    nowPlaying: c.nowPlaying && nowPlayingView(c.nowPlaying, c, ctx),
    next: nextView(c),
    listeners: listenersOf(c, ctx).builtin + listenersOf(c, ctx).icecast,
    listenersIcecast: listenersOf(c, ctx).icecast,
    listenersUnique: outputs?.hub?.unique ?? 0,
    live: c.liveShow && { dj: c.liveShow.dj, title: c.liveShow.title, startedAt: c.liveShow.startedAt },
    programme: c.programme,
    outputs: [
      ...(outputs?.icecast ?? []).map(icecastOutputView),
      ...(outputs?.hub ? [{ kind: 'builtin' as const, server: null, connected: true, status: 'serving', lastError: null }] : []),
      ...(outputs?.rtmp ?? []).map((r) => ({
        kind: 'rtmp' as const,
        server: r.target,
        connected: r.state === 'streaming',
        status: r.state,
        lastError: r.lastError,
      })),
    ],
  };
}

/** Per channel and output: on air, connected, last error. 503 when any channel is off air. */
export function healthView(channels: Channel[], ctx: ViewContext) {
  const list = channels.map((c) => ({
    id: c.id,
    onAir: c.status === 'on-air',
    playing: c.nowPlaying?.title ?? null,
    songsPlayed: c.songsPlayed,
    songsFailed: c.songsFailed,
    encoderRestarts: c.encoderRestarts,
    pacingErrorMs: Math.round(c.pacingError * 1000),
    /** Seconds of dead air so far (0: audio is audible); see DEAD_AIR_SECONDS. */
    deadAirSeconds: Math.round(c.deadAirSeconds),
    outputs: channelView(c, ctx).outputs,
  }));
  return { status: list.every((c) => c.onAir && c.deadAirSeconds === 0) ? 'ok' : 'degraded', processFaults: processFaults.uncaught, channels: list };
}
