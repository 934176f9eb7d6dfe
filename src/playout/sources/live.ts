import type { TrackInfo } from '../../acquire/track-info.js';
import type { PcmFeed, Song, SongEnd, SongSource } from './source.js';

/** A DJ broadcasting into a channel: their decoded audio and what to show. */
export interface LiveShow {
  /** The DJ's account name. */
  dj: string;
  /** The show's name (the client's ice-name), if it sent one: shown with the DJ's until the client sends a title. */
  name: string | undefined;
  /** A title the client sent before the show went on air: shown as sent. */
  title?: string | undefined;
  feed: PcmFeed;
  /** dB applied to the DJ's audio (the channel's `live.gain`); the limiter keeps the ceiling. */
  gainDb: number;
  /** dB the show's level is brought by now to the channel's loudness (a slow automatic gain), if loudness is on. */
  autoGainDb?: () => number;
}

const LIVE_KEY = 'live:';

/** The DJ a live show's song key names. */
export function djOf(key: string): string {
  return key.slice(LIVE_KEY.length);
}

/** The song a live show plays as: no known length, its own watch for stalls (the ingest's source timeout). */
function liveSong(show: LiveShow): Song {
  return {
    // The client's own title as sent; else "DJ - Show" when it named a show; else the DJ's name alone.
    info: {
      key: `${LIVE_KEY}${show.dj}`,
      source: 'live',
      title: show.title ?? show.name ?? show.dj,
      artist: !show.title && show.name ? show.dj : undefined,
      album: show.name,
    },
    label: `live show of ${show.dj}`,
    track: { gain: show.gainDb },
    analysis: null,
    feed: show.feed,
    seconds: null,
    gainDb: show.gainDb,
    ...(show.autoGainDb ? { gainNowDb: () => show.gainDb + show.autoGainDb!() } : {}),
    stallMs: Infinity,
  };
}

/**
 * The fallback/switch operator: a live show, when one is on, else the songs
 * of the source beneath (the playlist). The playlist keeps preparing its next
 * song while the DJ is on, so the hand-back is gapless.
 */
export class LiveSwitch implements SongSource {
  /** The show's song, until the mixer has taken it. */
  private waiting: Song | null = null;
  /** The show's song while it is handed out (waiting or in the mix). */
  private current: Song | null = null;

  constructor(
    private readonly source: SongSource,
    /** A show's song left the air (ended, stopped, or failed). */
    private readonly onEnd: (song: Song, end: SongEnd) => void,
  ) {}

  /** The live show's song while one is handed out. */
  get song(): Song | null {
    return this.current;
  }

  /** Put `show` on next; the caller fades out what plays. A show already on is replaced (its feed destroyed). */
  start(show: LiveShow): Song {
    if (this.waiting) this.finished(this.waiting, { how: 'stopped' });
    this.current?.feed.destroy();
    const song = liveSong(show);
    this.waiting = song;
    this.current = song;
    return song;
  }

  /** The show's title changed: returns whether the mixer has its song already (the caller then marks the change in the stream). */
  retitle(info: TrackInfo): boolean {
    if (!this.current) return false;
    this.current.info = info;
    return this.waiting !== this.current;
  }

  prepare(): void {
    this.source.prepare();
    // While a show is on, the playlist's next song has its decoder started and waiting: a show's end is
    // known only when the DJ leaves, with a fraction of a second of their audio left to cover the join.
    if (this.current) this.source.warmUp();
  }

  take(): Song | null {
    if (this.waiting) {
      const song = this.waiting;
      this.waiting = null;
      return song;
    }
    // Once the DJ has left (every byte of the show is buffered), the playlist's next song may join: it crossfades in over the show's last audio.
    return this.current && !this.current.feed.complete ? null : this.source.take();
  }

  warmUp(): void {
    this.source.warmUp();
  }

  /** A show is never handed out again; the playlist's songs are. */
  giveBack(song: Song): void {
    if (song.info.source !== 'live') this.source.giveBack(song);
  }

  finished(song: Song, end: SongEnd): void {
    if (song.info.source !== 'live') {
      this.source.finished(song, end);
      return;
    }
    if (song === this.waiting) this.waiting = null;
    if (song === this.current) this.current = null;
    song.feed.destroy();
    this.onEnd(song, end);
  }
}
