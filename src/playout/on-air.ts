/**
 * What a channel's listeners have seen: the title up now, the history, and
 * the bookkeeping that keeps them in step with the ears. The mix runs
 * ahead of listeners by what is queued (~0.8 s), so a title is "marked"
 * when the mix puts it into the stream and "seen" when the pacer sends the
 * frame it rides on; a song cut in between is told apart from one heard.
 */
import type { NowPlaying, TrackInfo } from './now-playing.js';

/** How an entry of the history left the air, when not by playing to its end. */
export type HistoryEnd = 'skipped' | 'interrupted';

export type HistoryEntry = NowPlaying & { endedAt: string; end?: HistoryEnd };

export class OnAir {
  nowPlaying: NowPlaying | null = null;
  /** Latest first. */
  readonly history: HistoryEntry[] = [];
  /** How the song on air is leaving, if early: recorded in the history as it ends. */
  leaving: HistoryEnd | null = null;
  /** The last title marked in the stream, and the last seen. */
  private lastMarked: TrackInfo | null = null;
  private lastSeen: TrackInfo | null = null;
  /** Each song hands out its own TrackInfo, so these tell a song given back from its replay. */
  private readonly marked = new WeakSet<TrackInfo>();
  private readonly seenSet = new WeakSet<TrackInfo>();
  /** Titles still queued for songs cut before listeners saw them: dropped when they reach the pacer. */
  private readonly dropped = new WeakSet<TrackInfo>();

  constructor(private readonly limit: number) {}

  /** The mix put this title into the stream. */
  mark(info: TrackInfo): void {
    this.lastMarked = info;
    this.marked.add(info);
  }

  /** Whether listeners have seen this title. */
  seen(info: TrackInfo): boolean {
    return this.seenSet.has(info);
  }

  /** A song cut before listeners saw its title: its title, if already queued, never goes up. */
  cutUnseen(info: TrackInfo): void {
    if (this.marked.has(info)) this.dropped.add(info);
  }

  /** The title marked but never sent (the encoder's run died with it queued), to mark again. */
  get unsent(): TrackInfo | null {
    return this.lastMarked && this.lastMarked !== this.lastSeen ? this.lastMarked : null;
  }

  /**
   * A title reached listeners at `at`: it is now playing, and what played
   * goes to the history. Returns what it replaced, or false for a title
   * dropped (its song was cut before it was seen).
   */
  arrive(info: TrackInfo, at: string, streamPos?: number): { before: NowPlaying | null } | false {
    if (this.dropped.has(info)) {
      this.dropped.delete(info);
      return false;
    }
    this.seenSet.add(info);
    this.lastSeen = info;
    const before = this.nowPlaying;
    if (before) this.toHistory(before, at, this.leaving && before.source !== 'live' ? this.leaving : null);
    this.leaving = null;
    this.nowPlaying = streamPos === undefined ? { ...info, startedAt: at } : { ...info, startedAt: at, streamPos };
    return { before };
  }

  /** Nothing plays any more (the mix ran empty): what played goes to the history. */
  clear(at: string): NowPlaying | null {
    const before = this.nowPlaying;
    if (before) this.toHistory(before, at, null);
    this.nowPlaying = null;
    return before;
  }

  private toHistory(entry: NowPlaying, at: string, end: HistoryEnd | null): void {
    this.history.unshift({ ...entry, endedAt: at, ...(end ? { end } : {}) });
    if (this.history.length > this.limit) this.history.length = this.limit;
  }
}
