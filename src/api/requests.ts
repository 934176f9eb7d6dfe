/**
 * Listener requests, on AzuraCast's routes so existing request widgets
 * work: a channel with `"requests"` lists its songs, each under a
 * `request_id`, and queues the one a listener asks for, within limits: so
 * many per address an hour, so many waiting at once, no song or artist
 * again too soon. Each refusal says why.
 */
import { createHash } from 'node:crypto';
import { fallbackTitle } from '../acquire/resolver.js';
import { trackKey, type RequestLimits, type Track } from '../config/playlist.js';
import { clientKey } from '../kernel/client-address.js';
import { ScastError } from '../kernel/errors.js';
import type { Channel } from '../playout/channel.js';
import type { NowPlaying } from '../playout/now-playing.js';
import type { Station } from '../playout/station.js';

export class RequestRefused extends ScastError {
  constructor(
    code: string,
    message: string,
    statusCode: number,
    readonly retryAfterS?: number,
  ) {
    super(code, message, { statusCode });
  }
}

export interface Requestable {
  id: string;
  track: Track;
  title: string;
  artist: string | null;
  album: string | null;
}

const HOUR = 3_600_000;
/** Addresses remembered for the hourly limit at most: a flood of addresses cannot grow memory without bound. */
const ADDRESSES_KEPT = 50_000;

interface ChannelState {
  /** Keys of songs asked for and not yet on air. */
  pending: Map<string, number>;
  /** Song key / artist -> when it last played or was asked for. */
  songAt: Map<string, number>;
  artistAt: Map<string, number>;
  /** Address -> times of its requests in the last hour. */
  byAddress: Map<string, number[]>;
  catalog: { from: readonly Track[]; list: Requestable[]; byId: Map<string, Requestable> } | null;
}

const norm = (s: string | null | undefined): string => (s ?? '').trim().toLowerCase();

export class ListenerRequests {
  private readonly state = new WeakMap<Channel, ChannelState>();

  constructor(
    station: Station,
    private readonly now: () => number = Date.now,
  ) {
    for (const c of station.channels) this.watch(c);
    station.on('channel-added', (c: Channel) => this.watch(c));
  }

  /** The channel's limits; null: it takes no requests. */
  limits(c: Channel): RequestLimits | null {
    return c.playlist.requests;
  }

  /** The channel's songs, searchable by title, artist or album (case-insensitive). */
  list(c: Channel, search = ''): Requestable[] {
    const all = this.catalog(c).list;
    const q = norm(search);
    return q ? all.filter((r) => norm(r.title).includes(q) || norm(r.artist).includes(q) || norm(r.album).includes(q)) : all;
  }

  /** Queue the song `id` for the listener at `address`, or say why not. Returns its place in the queue. */
  ask(c: Channel, id: string, address: string | undefined): { song: Requestable; position: number } {
    const limits = this.limits(c);
    if (!limits) throw new RequestRefused('SCAST_REQUESTS_OFF', `channel ${c.id} does not take requests`, 403);
    const song = /^[0-9a-f]{24}$/.test(id) ? this.catalog(c).byId.get(id) : undefined;
    if (!song) throw new RequestRefused('SCAST_NOT_FOUND', `no requestable song ${JSON.stringify(id.slice(0, 64))} on ${c.id}`, 404);
    const s = this.of(c);
    const now = this.now();
    const who = clientKey(address);
    const times = (s.byAddress.get(who) ?? []).filter((t) => t > now - HOUR);
    if (times.length >= limits.perAddressPerHour) {
      const wait = Math.ceil((times[0]! + HOUR - now) / 1000);
      throw new RequestRefused(
        'SCAST_REQUEST_RATE',
        `you have made ${times.length} requests in the last hour; the limit is ${limits.perAddressPerHour}: try again in ${Math.ceil(wait / 60)} min`,
        429,
        wait,
      );
    }
    const key = trackKey(song.track);
    if (s.pending.has(key)) throw new RequestRefused('SCAST_REQUEST_WAITING', `"${song.title}" was already asked for and will play soon`, 409);
    if (s.pending.size >= limits.maxPending)
      throw new RequestRefused('SCAST_REQUEST_QUEUE_FULL', `${s.pending.size} requests are waiting to play; try again after the next one`, 429, 60);
    const minutesAgo = (t: number | undefined): number | null => (t === undefined ? null : (now - t) / 60_000);
    const songAgo = minutesAgo(s.songAt.get(key));
    if (songAgo !== null && songAgo < limits.songMinutes)
      throw new RequestRefused(
        'SCAST_REQUEST_SONG_RECENT',
        `"${song.title}" played or was asked for ${Math.floor(songAgo)} min ago; it may be asked for again after ${limits.songMinutes} min`,
        403,
      );
    const artistAgo = song.artist ? minutesAgo(s.artistAt.get(norm(song.artist))) : null;
    if (artistAgo !== null && artistAgo < limits.artistMinutes)
      throw new RequestRefused(
        'SCAST_REQUEST_ARTIST_RECENT',
        `${song.artist} played or was asked for ${Math.floor(artistAgo)} min ago; another of their songs may be asked for after ${limits.artistMinutes} min`,
        403,
      );
    const position = c.enqueue(song.track, true);
    times.push(now);
    s.byAddress.delete(who);
    s.byAddress.set(who, times);
    if (s.byAddress.size > ADDRESSES_KEPT) s.byAddress.delete(s.byAddress.keys().next().value!);
    s.pending.set(key, now);
    s.songAt.set(key, now);
    if (song.artist) s.artistAt.set(norm(song.artist), now);
    return { song, position };
  }

  private of(c: Channel): ChannelState {
    let s = this.state.get(c);
    if (!s) this.state.set(c, (s = { pending: new Map(), songAt: new Map(), artistAt: new Map(), byAddress: new Map(), catalog: null }));
    return s;
  }

  private watch(c: Channel): void {
    const s = this.of(c);
    c.on('track', (np: NowPlaying) => {
      if (np.source === 'live') return;
      const now = this.now();
      s.pending.delete(np.key);
      s.songAt.set(np.key, now);
      if (np.artist) s.artistAt.set(norm(np.artist), now);
    });
    // A request that cannot be played is no longer waiting.
    c.on('skipped', (e: { track: Track }) => s.pending.delete(trackKey(e.track)));
  }

  /** The catalog, rebuilt only when the channel's songs changed. */
  private catalog(c: Channel): NonNullable<ChannelState['catalog']> {
    const s = this.of(c);
    const from = c.catalog();
    if (s.catalog?.from === from) return s.catalog;
    const list = from.map((track) => ({
      // Names the song without saying where it lives (paths, URLs, QQ ids stay on the station).
      id: createHash('sha256')
        .update(`${c.id}\n${trackKey(track)}`)
        .digest('hex')
        .slice(0, 24),
      track,
      title: track.title ?? fallbackTitle(track),
      artist: track.artist ?? null,
      album: track.album ?? null,
    }));
    s.catalog = { from, list, byId: new Map(list.map((r) => [r.id, r])) };
    return s.catalog;
  }
}
