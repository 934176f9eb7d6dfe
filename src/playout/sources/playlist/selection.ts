import type { Logger } from 'pino';
import { trackKey, type Track } from '../../../config/playlist.js';
import { reasonOf } from '../../../errors.js';
import { exponentialBackoff, type RetryPolicy } from '../../../retry.js';
import { PlayQueue, type Dealt, type ListSpec } from './queue.js';
import type { Rotation } from '../programme/rotation.js';
import { SongBackoff } from './song-backoff.js';

/** A failed song is tried again after 30 s, then 1, 2, 4... minutes, at most an hour. */
export const SONG_RETRY = exponentialBackoff({ baseMs: 30_000, capMs: 3_600_000, random: () => 1 });

/** Songs looked at, at most, for one that keeps the rotation rules. */
const RULES_LOOKAHEAD = 64;

export interface SelectionOptions {
  list: ListSpec;
  log: Logger;
  now: () => number;
  random?: (() => number) | undefined;
  /** Delay before re-trying after every song of the list failed in a row. */
  failureBackoff?: RetryPolicy | undefined;
  /** How long a failed song waits before it is prepared again, by failures in a row. */
  songRetry?: RetryPolicy | undefined;
  /** Rotation rules, shared by a channel's lists; none: play in list order. */
  rotation?: Rotation | undefined;
}

/** A prepared song as the selection sees it: its entry and track. */
export interface DealtSlot {
  entry: string | null;
  track: Track;
}

/**
 * Which song of the playlist comes next: the play order (PlayQueue), songs
 * waiting out a failure passed over (SongBackoff), silence with a retry
 * when every song failed in a row, and the place kept across edits. Pure
 * apart from its logger and clock.
 */
export class Selection {
  private readonly queue: PlayQueue;
  private readonly broken: SongBackoff;
  private readonly failureBackoff: RetryPolicy;
  private failedInARow = 0;
  private failureRound = 0;
  private pausedUntil = 0;

  constructor(private readonly opts: SelectionOptions) {
    this.queue = new PlayQueue(opts.list, opts.random);
    this.broken = new SongBackoff(opts.songRetry ?? SONG_RETRY, opts.now);
    this.failureBackoff = opts.failureBackoff ?? exponentialBackoff({ baseMs: 1000, capMs: 60_000 });
  }

  /**
   * The next song of the list, passing over those still waiting out a
   * failure and, with rotation rules, those that would break one (the first
   * song the rules allow among the next RULES_LOOKAHEAD). When none does,
   * the rules give way, with a log line saying which. Null: nothing now.
   */
  draw(): Dealt | null {
    if (this.opts.now() < this.pausedUntil) return null;
    const rotation = this.opts.rotation;
    if (!rotation?.active) {
      for (let i = 0; i < Math.max(1, this.queue.size); i++) {
        const dealt = this.queue.next();
        if (!dealt || !this.broken.waiting(trackKey(dealt.track))) return this.dealt(dealt);
      }
      return null;
    }
    const ahead = this.queue.peek(Math.min(this.queue.size, RULES_LOOKAHEAD));
    let fallback = -1;
    let why: string | null = null;
    for (let k = 0; k < ahead.length; k++) {
      const track = this.queue.trackOf(ahead[k]!)!;
      if (this.broken.waiting(trackKey(track))) continue;
      const broken = rotation.breaks(track);
      if (broken === null) return this.dealt(this.queue.nextAt(k));
      if (fallback < 0) {
        fallback = k;
        why = broken;
      }
    }
    if (fallback < 0) return null;
    const dealt = this.queue.nextAt(fallback);
    if (dealt) this.opts.log.info({ song: dealt.track.title ?? trackKey(dealt.track), rule: why, songs: this.queue.size }, `rotation rule relaxed: ${why} (no song of the ${this.queue.size} keeps every rule now)`);
    return this.dealt(dealt);
  }

  private dealt(d: Dealt | null): Dealt | null {
    if (d) this.opts.rotation?.dealt(d.track);
    return d;
  }

  /**
   * An edited playlist, keeping the place: `dealt` are the songs prepared
   * but not playing, in order. Returns how many of them are still what comes
   * next (same entry, same fields): those stay prepared, the rest go back.
   */
  update(playlist: ListSpec, dealt: readonly DealtSlot[], playing: string | null): number {
    this.queue.update(playlist, dealt.map((s) => s.entry!), playing);
    const next = this.queue.peek(dealt.length);
    let keep = 0;
    while (keep < dealt.length && dealt[keep]!.entry === next[keep] && sameTrack(dealt[keep]!.track, this.queue.trackOf(next[keep]!))) keep++;
    for (let i = 0; i < keep; i++) this.queue.next();
    this.failedInARow = 0;
    this.pausedUntil = 0;
    return keep;
  }

  /** A song failed (label: how logs name it): logged once at warn, then waits; all failing in a row pauses the list. */
  failed(track: Track, label: string, err: unknown): void {
    this.failedInARow += 1;
    const { failures, retryInMs } = this.broken.failed(trackKey(track), err);
    const retryAt = new Date(Date.now() + retryInMs).toISOString();
    // Each broken song is a warning once; its further failures are routine until it plays.
    if (failures > 1) this.opts.log.debug({ song: label, err: reasonOf(err), failures, retryAt }, 'song skipped again');
    else this.opts.log.warn({ song: label, err: reasonOf(err), retryAt }, 'song skipped');
    if (this.failedInARow >= Math.max(1, this.queue.size)) {
      // Every song failed in a row: stay on air with silence, try again later.
      this.failureRound += 1;
      const wait = this.failureBackoff(this.failureRound, err) ?? 60_000;
      this.pausedUntil = this.opts.now() + wait;
      this.failedInARow = 0;
      this.opts.log.warn({ retryInMs: wait }, 'every song of the playlist failed; playing silence until retry');
    }
  }

  /** A song started: the failure streak is over. */
  started(): void {
    this.failedInARow = 0;
  }

  /** A song reached the air: its slate is clean, and so is the list's. */
  played(key: string): void {
    this.broken.played(key);
    this.failureRound = 0;
  }
}

/** The same playlist entry with the same fields (a changed title must be prepared again to show). */
function sameTrack(a: Track, b: Track | undefined): boolean {
  return b !== undefined && JSON.stringify(a) === JSON.stringify(b);
}
