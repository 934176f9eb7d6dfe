/**
 * What a webhook receives: sCast's own JSON (documented in docs/webhooks.md,
 * signed) or a Discord webhook message. Built from the channel's own
 * records, so a payload says what listeners were told at that moment.
 */
import { createHmac } from 'node:crypto';
import type { Playlist, WEBHOOK_EVENTS } from '../config/playlist.js';
import type { LiveShowRecord } from '../playout/live-shows.js';
import type { NowPlaying } from '../playout/now-playing.js';

export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export interface WebhookNews {
  event: WebhookEvent;
  at: string;
  channel: { id: string; name: string; mount: string };
  /** The song or show on air (for song events the new one). */
  nowPlaying: {
    title: string;
    artist: string | null;
    album: string | null;
    art: string | null;
    durationMs: number | null;
    startedAt: string;
    live: boolean;
  } | null;
  /** With live-start and live-end: the show. */
  show: { dj: string; title: string; startedAt: string; endedAt: string | null; end: string | null } | null;
  /** The channel's player page. */
  url: string;
}

/** `art`: the song's picture, an absolute URL (see ArtLinks). */
export function news(
  event: WebhookEvent,
  id: string,
  playlist: Playlist,
  np: NowPlaying | null,
  show: LiveShowRecord | null,
  base: string,
  art: string | null = null,
): WebhookNews {
  return {
    event,
    at: new Date().toISOString(),
    channel: { id, name: playlist.name, mount: playlist.mount },
    nowPlaying: np && {
      title: np.title,
      artist: np.artist ?? null,
      album: np.album ?? null,
      art,
      durationMs: np.durationMs ?? null,
      startedAt: np.startedAt,
      live: np.source === 'live',
    },
    show: show && { dj: show.dj, title: show.title, startedAt: show.startedAt, endedAt: show.endedAt, end: show.end },
    url: `${base}/${encodeURIComponent(id)}`,
  };
}

/**
 * Headers proving a JSON payload came from this station and when:
 * `X-Scast-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
 * A receiver recomputes it with the shared secret and refuses a timestamp
 * more than a few minutes old (a replay).
 */
export function signature(secret: string, body: string, nowMs: number): string {
  const t = Math.floor(nowMs / 1000);
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

const DISCORD_TEXT = 256;
const cut = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
/** Discord renders markdown and pings mentions: a title is shown as typed, nothing more. */
const plain = (s: string): string => s.replace(/([\\*_`~|>#[\]()])/g, '\\$1').replace(/@/g, '@\u200b');

/** A Discord webhook message: one embed, as Discord's API documents them. */
export function discordMessage(n: WebhookNews): object {
  const np = n.nowPlaying;
  const line = np ? (np.artist ? `${np.artist} – ${np.title}` : np.title) : '';
  const [title, description, color] = ((): [string, string, number] => {
    switch (n.event) {
      case 'song':
        return ['Now playing', line, 0x4fb3ff];
      case 'live-start':
        return [`Live now: ${n.show?.dj ?? ''}`, n.show?.title ?? line, 0xe5484d];
      case 'live-end':
        return [`${n.show?.dj ?? 'The DJ'} has left the air`, line || 'Back to the playlist', 0x9aa3b2];
      case 'on-air':
        return ['On air', line || 'The channel is on air', 0x2f8f46];
      case 'off-air':
        return ['Off air', 'The channel stopped', 0x7a2a2a];
    }
  })();
  return {
    username: cut(n.channel.name, 80),
    allowed_mentions: { parse: [] },
    embeds: [
      {
        title: cut(plain(title), DISCORD_TEXT),
        description: cut(plain(description), 4096),
        url: n.url,
        color,
        timestamp: n.at,
        ...(np?.art && /^https?:\/\//.test(np.art) ? { thumbnail: { url: np.art } } : {}),
        footer: { text: cut(n.channel.name, 2048) },
      },
    ],
  };
}
