import { trackKey, type Track } from '../../../config/playlist.js';

/** A list as the queue plays it: songs only (collections already read into songs). */
export interface ListSpec {
  tracks: readonly Track[];
  order: 'sequential' | 'shuffle';
  loop: boolean;
  /** Entries with a weight: which group each song is in (songs not listed: group 0) and each group's weight. */
  weights?: Weights | null | undefined;
}

export interface Weights {
  groupOf: ReadonlyMap<Track, number>;
  /** Weight by group; group 0 (plain songs, collections without a weight) weighs 1. */
  weight: readonly number[];
}

/** A song dealt by the queue, with the identity of its entry in the list. */
export interface Dealt {
  track: Track;
  /**
   * `trackKey#n`: the n-th listing of that song. A file listed twice is two
   * entries, each played once a round; an edit elsewhere in the list leaves
   * an entry's identity alone.
   */
  entry: string;
}

/** Entry identities of a list, in order. */
export function entriesOf(tracks: readonly Track[], prefix = ''): string[] {
  const seen = new Map<string, number>();
  return tracks.map((t) => {
    const key = trackKey(t);
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    return `${prefix}${key}#${n}`;
  });
}

/**
 * What the playlist plays next. Pure. Sequential walks the list; shuffle
 * deals the whole list in random order before any entry repeats, and never
 * opens a new round with the entry that closed the last one.
 *
 * Entries are dealt a little ahead of play (the channel prepares the next
 * songs). On an edit, the channel hands back those not yet played, so the
 * queue resumes at the first of them still listed: the song shown as next
 * plays next, unless the edit removed or moved it.
 */
export class PlayQueue {
  private tracks: Track[] = [];
  private entries: string[] = [];
  /** Where each entry is listed: dealing stays O(1) in a list of 10 000 songs. */
  private at = new Map<string, number>();
  private order: ListSpec['order'] = 'sequential';
  private loop = true;
  /** Sequential: index of the next entry. */
  private cursor = 0;
  /** Shuffle: entries still to deal this round (dealt from the end). */
  private bag: string[] = [];
  private lastEntry: string | null = null;
  /** A non-looping list that has played through. */
  private finished = false;

  constructor(
    playlist: ListSpec,
    private readonly random: () => number = Math.random,
    /** Put before every entry's identity (a weighted source's group: "2|"), so entries of several queues never collide. */
    private readonly prefix = '',
  ) {
    this.update(playlist);
  }

  get size(): number {
    return this.tracks.length;
  }

  /** The next song, or null when nothing is left (empty list, or a finished non-looping one). */
  next(): Dealt | null {
    if (this.tracks.length === 0 || this.finished) return null;
    const entry = this.order === 'shuffle' ? this.nextShuffled() : this.nextSequential();
    if (entry === null) return null;
    this.lastEntry = entry;
    return { track: this.tracks[this.at.get(entry)!]!, entry };
  }

  /**
   * Deal the entry `k` places ahead (0: what next() deals), passing over
   * the ones before it: shuffle keeps them in the round, sequential play
   * leaves them behind for this pass.
   */
  nextAt(k: number): Dealt | null {
    if (k === 0 || this.order === 'sequential') {
      let d: Dealt | null = null;
      for (let i = 0; i <= k; i++) d = this.next();
      return d;
    }
    this.peek(k + 1);
    if (this.bag.length <= k) return null;
    const entry = this.bag.splice(this.bag.length - 1 - k, 1)[0]!;
    this.lastEntry = entry;
    return { track: this.tracks[this.at.get(entry)!]!, entry };
  }

  /**
   * The entries the next `n` calls of next() will deal, without dealing them.
   * @param distinct shuffle: rounds dealt ahead hold only entries not already
   * waiting, so every entry waits once at most (what rotation rules look
   * through: songs they pull forward then never pile up behind).
   */
  peek(n: number, distinct = false): string[] {
    if (this.tracks.length === 0 || this.finished) return [];
    if (this.order === 'shuffle') {
      // Rounds are dealt ahead as needed (at random): next() then deals exactly these.
      while (this.bag.length < n && (this.loop || (this.lastEntry === null && this.bag.length === 0))) {
        const waiting = distinct ? new Set(this.bag) : null;
        const round = this.deal(this.bag[0] ?? this.lastEntry).filter((e) => !waiting?.has(e));
        if (round.length === 0) break;
        this.bag.unshift(...round);
        if (!this.loop) break;
      }
      return this.bag.slice(-n).reverse();
    }
    const saved = { cursor: this.cursor, lastEntry: this.lastEntry, finished: this.finished };
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const d = this.next();
      if (!d) break;
      out.push(d.entry);
    }
    Object.assign(this, saved);
    return out;
  }

  /** The track listed as `entry`, if it is listed. */
  trackOf(entry: string): Track | undefined {
    const at = this.at.get(entry);
    return at === undefined ? undefined : this.tracks[at];
  }

  /**
   * Apply an edited playlist, keeping the place.
   * @param unplayed entries dealt but not played yet, in the order dealt: they are taken back.
   * @param playing the entry on air, if any: sequential play continues after it when none of `unplayed` is still listed.
   */
  update(playlist: ListSpec, unplayed: readonly string[] = [], playing: string | null = null): void {
    const before = new Set(this.entries);
    const orderChanged = playlist.order !== this.order;
    this.tracks = [...playlist.tracks];
    this.entries = entriesOf(this.tracks, this.prefix);
    this.at = new Map(this.entries.map((e, i) => [e, i]));
    this.order = playlist.order;
    this.loop = playlist.loop;
    this.finished = false;
    const at = (e: string | null): number => (e === null ? -1 : (this.at.get(e) ?? -1));
    if (this.order === 'sequential') {
      const resume = unplayed.map(at).find((i) => i >= 0);
      const after = at(playing ?? this.lastEntry);
      this.cursor = resume !== undefined ? resume : after >= 0 ? after + 1 : Math.min(this.cursor, this.tracks.length);
      return;
    }
    const present = new Set(this.entries);
    if (orderChanged) {
      this.bag = [];
    } else {
      this.bag = this.bag.filter((e) => present.has(e));
      const added = this.entries.filter((e) => !before.has(e));
      if (added.length > 64) {
        // A folder read for the first time: one shuffle, not thousands of splices.
        this.bag.push(...added);
        this.bag = this.shuffled(this.bag);
      } else {
        for (const e of added) this.bag.splice(Math.floor(this.random() * (this.bag.length + 1)), 0, e);
      }
    }
    // Taken back on top, so they come out again first and in the order dealt: the round stays whole.
    const inBag = new Set(this.bag);
    const back = unplayed.filter((e) => present.has(e) && !inBag.has(e));
    if (back.length > 0 && this.bag.length === 0 && orderChanged) this.bag = this.deal(null).filter((e) => !back.includes(e));
    this.bag.push(...back.reverse());
  }

  private nextSequential(): string | null {
    if (this.cursor >= this.tracks.length) {
      if (!this.loop) {
        this.finished = true;
        return null;
      }
      this.cursor = 0;
    }
    const entry = this.entries[this.cursor]!;
    this.cursor += 1;
    return entry;
  }

  private nextShuffled(): string | null {
    if (this.bag.length === 0) {
      if (!this.loop && this.lastEntry !== null) {
        this.finished = true;
        return null;
      }
      this.bag = this.deal(this.lastEntry);
    }
    return this.bag.pop()!;
  }

  /** A shuffled round, dealt from the end; it never opens with `after`, the entry played just before it. */
  private deal(after: string | null): string[] {
    const entries = this.shuffled(this.entries);
    if (entries.length > 1 && entries[entries.length - 1] === after) {
      [entries[0], entries[entries.length - 1]] = [entries[entries.length - 1]!, entries[0]!];
    }
    return entries;
  }

  private shuffled(list: readonly string[]): string[] {
    const entries = [...list];
    for (let i = entries.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [entries[i], entries[j]] = [entries[j]!, entries[i]!];
    }
    return entries;
  }
}
