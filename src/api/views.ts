import type { Channel } from '../playout/channel.js';
import type { ChannelOutputs } from '../outputs/output-set.js';

/** A channel as the API shows it. */
export function channelView(c: Channel, outputs: ChannelOutputs | undefined, publicUrl: string, icecastUrls: readonly string[]) {
  const np = c.nowPlaying;
  const next = c.next;
  return {
    id: c.id,
    name: c.playlist.name,
    mount: c.playlist.mount,
    description: c.playlist.description ?? null,
    genre: c.playlist.genre ?? null,
    bitrate: c.playlist.bitrate,
    status: c.status,
    listen: {
      builtin: outputs?.hub ? `${publicUrl}${c.playlist.mount}` : null,
      icecast: icecastUrls.map((u) => `${u}${c.playlist.mount}`),
    },
    nowPlaying: np && {
      ...np,
      elapsedMs: Math.max(0, Date.now() - Date.parse(np.startedAt)),
    },
    next: next && { title: next.title ?? null, artist: next.artist ?? null },
    listeners: outputs?.hub?.count ?? 0,
  };
}

/** Per channel and output: on air, connected, last error. */
export function healthView(channels: Channel[], outputsOf: (c: Channel) => ChannelOutputs | undefined) {
  const list = channels.map((c) => {
    const outputs = outputsOf(c);
    return {
      id: c.id,
      status: c.status,
      onAir: c.status === 'on-air',
      playing: c.nowPlaying?.title ?? null,
      songsPlayed: c.songsPlayed,
      songsFailed: c.songsFailed,
      encoderRestarts: c.encoderRestarts,
      pacingErrorMs: Math.round(c.pacingError * 1000),
      outputs: [
        ...(outputs?.icecast ?? []).map((o) => ({
          kind: 'icecast' as const,
          server: o.server,
          status: o.client.status,
          connected: o.client.status === 'streaming',
          connections: o.client.connections,
          lastError: o.client.lastError?.message ?? null,
          lastTitleError: o.lastTitleError,
        })),
        ...(outputs?.hub ? [{ kind: 'builtin' as const, status: 'serving', connected: true, listeners: outputs.hub.count }] : []),
      ],
    };
  });
  const ok = list.every((c) => c.onAir);
  return { status: ok ? 'ok' : 'degraded', channels: list };
}
