import type { TrackInfo } from '../acquire/track-info.js';
import type { Song, SongEnd } from './sources/source.js';
import { djOf } from './sources/live.js';

/** A live show as the channel's history keeps it. */
export interface LiveShowRecord {
  dj: string;
  title: string;
  startedAt: string;
  endedAt: string | null;
  seconds: number | null;
  /** Why it ended: the DJ left, dead air, a bad input, replaced by another DJ, the channel closed. */
  end: string | null;
  /** The file it was recorded to, if recording is on. */
  recording: string | null;
  /** Why the recording stopped before the show did (a full disk), if it did: the file holds only the show's start. */
  recordingError: string | null;
}

/**
 * A channel's live shows as listeners heard them: a show opens when its
 * first audio goes out and closes when the playlist's first song after it
 * does (or at once, if it never got on air), with why it left.
 */
export class LiveShows {
  /** Latest first; the one on air has no endedAt. */
  readonly list: LiveShowRecord[] = [];
  /** Why the show's song left the mix, until the hand-back is heard. */
  private why: string | null = null;
  /** Where in the stream (seconds of audio sent) the show on air began, if known. */
  private startedAtSecond: number | null = null;

  constructor(
    private readonly limit: number,
    private readonly emit: (event: 'live-start' | 'live-end', show: LiveShowRecord) => void,
  ) {}

  get current(): LiveShowRecord | null {
    const show = this.list[0];
    return show && show.endedAt === null ? show : null;
  }

  /** A show's first audio went out at `at`, `streamSecond` seconds into the stream. */
  open(info: TrackInfo, at: string, streamSecond: number | null = null): void {
    this.startedAtSecond = streamSecond;
    const dj = djOf(info.key);
    const show: LiveShowRecord = { dj, title: info.album ?? dj, startedAt: at, endedAt: null, seconds: null, end: null, recording: null, recordingError: null };
    this.list.unshift(show);
    if (this.list.length > this.limit) this.list.length = this.limit;
    this.emit('live-start', show);
  }

  /** Another DJ took the show over. */
  replaced(): void {
    if (this.current) this.current.end = 'replaced by another DJ';
  }

  /** The show's song left the mix, `end` as the mixer says; `closing`: the channel is stopping. Returns why, said plainly. */
  left(song: Song, end: SongEnd, closing: boolean): string {
    this.why =
      end.how === 'failed'
        ? `failed: ${end.error.message}`
        : end.how === 'stopped'
          ? closing
            ? 'channel closed'
            : 'stopped'
          : (song.feed.error?.message ?? 'the DJ disconnected');
    return this.why;
  }

  /**
   * The show is over for listeners (the playlist is heard again, it never
   * got on air, or the channel stopped). Its length is the audio between its
   * first frame and the playlist's when both places in the stream are known
   * (what listeners heard: frames go out a tick at a time, so the wall clock
   * between the two would be off by up to a tick), else the wall clock.
   */
  close(at = new Date().toISOString(), streamSecond: number | null = null): void {
    const show = this.current;
    if (!show) return;
    show.endedAt = at;
    const heard = streamSecond !== null && this.startedAtSecond !== null ? streamSecond - this.startedAtSecond : null;
    show.seconds = Math.round((heard ?? (Date.parse(at) - Date.parse(show.startedAt)) / 1000) * 10) / 10;
    this.startedAtSecond = null;
    show.end ??= this.why ?? 'ended';
    this.why = null;
    this.emit('live-end', show);
  }
}
