import type { Logger } from 'pino';
import { trackKey, type Track } from '../../../config/playlist.js';
import { isResourceShortage, reasonOf } from '../../../kernel/errors.js';
import { exponentialBackoff, type RetryPolicy } from '../../../kernel/retry.js';
import { PlayQueue, type Dealt, type ListSpec } from './queue.js';
import type { Rotation } from '../programme/rotation.js';
import { SongBackoff } from './song-backoff.js';

/** A song that failed for want of descriptors or processes is tried again after this. */
export const SHORTAGE_RETRY_MS = 2000;

/** A failed song is tried again after 30 s, then 1, 2, 4... minutes, at most an hour. */
export const SONG_RETRY = exponentialBackoff({ baseMs: 30_000, capMs: 3_600_000, random: () => 1 });

/** Songs looked at, at most, for one that keeps the rotation rules (two rounds of a short list). */
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
  /** One queue; with weights, one per weighted source (group), group 0 holding every other song. */
  private queues: PlayQueue[] = [];
  private readonly broken: SongBackoff;
  private readonly failureBackoff: RetryPolicy;
  private failedInARow = 0;
  private deferredInARow = 0;
  private deferredLoggedAt = -Infinity;
  private failureRound = 0;
  private pausedUntil = 0;
  private weights: readonly number[] | null = null;
  /** Rules shape a shuffled list; a sequential one plays in the order its operator wrote (passing songs over would starve them). */
  private ruled = false;
  /** Smooth weighted round robin: each group's running credit. */
  private readonly credit = new Map<number, number>();

  constructor(private readonly opts: SelectionOptions) {
    this.broken = new SongBackoff(opts.songRetry ?? SONG_RETRY, opts.now);
    this.failureBackoff = opts.failureBackoff ?? exponentialBackoff({ baseMs: 1000, capMs: 60_000 });
    this.update(opts.list, [], null);
  }

  private get size(): number {
    return this.queues.reduce((n, q) => n + q.size, 0);
  }

  /**
   * The next song: from the source whose turn it is when the list has
   * weights (smooth weighted round robin: a source of weight 3 plays three
   * songs to another's one, however few songs it holds), passing over songs
   * still waiting out a failure and, with rotation rules, songs that would
   * break one (the first the rules allow among the next RULES_LOOKAHEAD,
   * from any source before a rule gives way). When none keeps them, the
   * rules give way, with a log line saying which. Null: nothing now.
   */
  draw(): Dealt | null {
    if (this.opts.now() < this.pausedUntil) return null;
    const order = this.turns();
    for (const relax of [false, true]) {
      for (const g of order) {
        const dealt = this.drawFrom(this.queues[g]!, relax);
        if (!dealt) continue;
        this.took(g);
        this.opts.rotation?.dealt(dealt.track, this);
        return dealt;
      }
      if (!this.ruled) break;
    }
    return null;
  }

  private drawFrom(queue: PlayQueue, relax: boolean): Dealt | null {
    const rotation = this.opts.rotation;
    if (!rotation || !this.ruled) {
      for (let i = 0; i < Math.max(1, queue.size); i++) {
        const dealt = queue.next();
        if (!dealt || !this.broken.waiting(trackKey(dealt.track))) return dealt;
      }
      return null;
    }
    // Into the next round too: in a short list, the song the rules want may be dealt next time round.
    const ahead = queue.peek(Math.min(queue.size * 2, RULES_LOOKAHEAD), true);
    let fallback = -1;
    let why: string | null = null;
    for (let k = 0; k < ahead.length; k++) {
      const track = queue.trackOf(ahead[k]!)!;
      if (this.broken.waiting(trackKey(track))) continue;
      const broken = rotation.breaks(track, this);
      if (broken === null) return queue.nextAt(k);
      if (fallback < 0) {
        fallback = k;
        why = broken;
      }
    }
    if (!relax || fallback < 0) return null;
    const dealt = queue.nextAt(fallback);
    if (dealt)
      this.opts.log.info(
        { song: dealt.track.title ?? trackKey(dealt.track), rule: why, songs: this.size },
        `rotation rule relaxed: ${why} (no song of the ${this.size} keeps every rule now)`,
      );
    return dealt;
  }

  /** Groups in the order to try them: the one whose turn it is first, then by credit. */
  private turns(): number[] {
    const present = this.queues.flatMap((q, g) => (q.size > 0 ? [g] : []));
    if (!this.weights) return present;
    return present
      .map((g) => ({ g, c: (this.credit.get(g) ?? 0) + (this.weights![g] ?? 1) }))
      .sort((a, b) => b.c - a.c || a.g - b.g)
      .map((x) => x.g);
  }

  /** Group `chosen` played: every group with songs earns its weight, the chosen one pays the total. */
  private took(chosen: number): void {
    if (!this.weights) return;
    let total = 0;
    this.queues.forEach((q, g) => {
      if (q.size === 0) return;
      const w = this.weights![g] ?? 1;
      total += w;
      this.credit.set(g, (this.credit.get(g) ?? 0) + w);
    });
    this.credit.set(chosen, (this.credit.get(chosen) ?? 0) - total);
  }

  /**
   * An edited playlist, keeping the place: `dealt` are the songs prepared
   * but not playing, in order. Returns how many of them are still what comes
   * next (same entry, same fields): those stay prepared, the rest go back.
   */
  update(playlist: ListSpec, dealt: readonly DealtSlot[], playing: string | null, opts: { keepNone?: boolean } = {}): number {
    const parts = split(playlist);
    const weights = playlist.weights?.weight ?? null;
    if (parts.length !== this.queues.length || (weights === null) !== (this.weights === null)) {
      this.queues = parts.map((p, g) => new PlayQueue(p, this.opts.random, weights ? `${g}|` : ''));
      this.credit.clear();
    }
    this.weights = weights;
    this.ruled = playlist.order === 'shuffle' && this.opts.rotation?.active === true;
    const groupOf = (entry: string | null): number => (weights && entry ? Number(entry.slice(0, entry.indexOf('|'))) : 0);
    this.queues.forEach((q, g) =>
      q.update(
        parts[g]!,
        dealt.filter((s) => groupOf(s.entry) === g).map((s) => s.entry!),
        groupOf(playing) === g ? playing : null,
      ),
    );
    // Still what comes next: each group's dealt songs in that group's order, as long as the run lasts.
    const taken = this.queues.map(() => 0);
    const next = this.queues.map((q, g) => q.peek(dealt.filter((s) => groupOf(s.entry) === g).length));
    let keep = 0;
    for (; !opts.keepNone && keep < dealt.length; keep++) {
      const s = dealt[keep]!;
      const g = groupOf(s.entry);
      const expected = next[g]?.[taken[g]!];
      if (expected === undefined || s.entry !== expected || !sameTrack(s.track, this.queues[g]!.trackOf(expected))) break;
      taken[g]! += 1;
    }
    taken.forEach((n, g) => {
      for (let i = 0; i < n; i++) this.queues[g]!.next();
    });
    // Songs given back are no longer lined up: they must not count before this list's next songs.
    for (const s of dealt.slice(keep)) this.opts.rotation?.withdraw(s.track, this);
    this.failedInARow = 0;
    this.pausedUntil = 0;
    return keep;
  }

  /** A song failed (label: how logs name it): logged once at warn, then waits; all failing in a row pauses the list. */
  failed(track: Track, label: string, err: unknown): void {
    if (isResourceShortage(err)) return this.deferred(track, label, err);
    this.failedInARow += 1;
    const { failures, retryInMs } = this.broken.failed(trackKey(track), err);
    const retryAt = new Date(Date.now() + retryInMs).toISOString();
    // Each broken song is a warning once; its further failures are routine until it plays.
    if (failures > 1) this.opts.log.debug({ song: label, err: reasonOf(err), failures, retryAt }, 'song skipped again');
    else this.opts.log.warn({ song: label, err: reasonOf(err), retryAt }, 'song skipped');
    if (this.failedInARow >= Math.max(1, this.size)) {
      // Every song failed in a row: stay on air with silence, try again later.
      this.failureRound += 1;
      const wait = this.failureBackoff(this.failureRound, err) ?? 60_000;
      this.pausedUntil = this.opts.now() + wait;
      this.failedInARow = 0;
      this.opts.log.warn({ retryInMs: wait }, 'every song of the playlist failed; playing silence until retry');
    }
  }

  /**
   * The song failed for want of the station's own resources (descriptors,
   * processes, a step's watchdog): not the song's fault. It is tried again
   * in seconds, is not counted as broken, and a list all of whose songs
   * meet this waits seconds, not the broken-list backoff. Logged at most
   * once per 10 s per list.
   */
  private deferred(track: Track, label: string, err: unknown): void {
    this.broken.deferred(trackKey(track), SHORTAGE_RETRY_MS);
    this.deferredInARow += 1;
    const t = this.opts.now();
    if (t - this.deferredLoggedAt >= 10_000) {
      this.opts.log.warn(
        { song: label, err: reasonOf(err), retryInMs: SHORTAGE_RETRY_MS, sinceLastLine: this.deferredInARow },
        'song deferred: the station is short of descriptors or processes; trying again shortly',
      );
      this.deferredLoggedAt = t;
    }
    if (this.deferredInARow >= Math.max(1, this.size)) {
      this.pausedUntil = t + SHORTAGE_RETRY_MS;
      this.deferredInARow = 0;
    }
  }

  /** A song started: the failure streak is over. */
  started(): void {
    this.failedInARow = 0;
    this.deferredInARow = 0;
  }

  /** A song reached the air: its slate is clean, and so is the list's. */
  played(key: string): void {
    this.broken.played(key);
    this.failureRound = 0;
  }
}

/** A list as one queue's part per group (one part when it has no weights). */
function split(list: ListSpec): ListSpec[] {
  const w = list.weights;
  if (!w) return [list];
  const parts: Track[][] = w.weight.map(() => []);
  for (const t of list.tracks) parts[w.groupOf.get(t) ?? 0]!.push(t);
  return parts.map((tracks) => ({ tracks, order: list.order, loop: list.loop }));
}

/** The same playlist entry with the same fields (a changed title must be prepared again to show). */
function sameTrack(a: Track, b: Track | undefined): boolean {
  return b !== undefined && JSON.stringify(a) === JSON.stringify(b);
}
