import { trackKey, type Playlist, type Track } from '../config/playlist.js';

/**
 * What the playlist plays next. Pure. Sequential walks the list; shuffle
 * deals the whole list in random order before any song repeats, and never
 * opens a new round with the song that closed the last one.
 */
export class PlayQueue {
  private tracks: Track[] = [];
  private order: Playlist['order'] = 'sequential';
  private loop = true;
  /** Sequential: index of the next track. */
  private cursor = 0;
  /** Shuffle: keys still to deal this round (dealt from the end). */
  private bag: string[] = [];
  private lastKey: string | null = null;
  /** A non-looping list that has played through. */
  private finished = false;

  constructor(
    playlist: Pick<Playlist, 'tracks' | 'order' | 'loop'>,
    private readonly random: () => number = Math.random,
  ) {
    this.update(playlist);
  }

  get size(): number {
    return this.tracks.length;
  }

  /** The next song, or null when nothing is left (empty list, or a finished non-looping one). */
  next(): Track | null {
    if (this.tracks.length === 0 || this.finished) return null;
    const track = this.order === 'shuffle' ? this.nextShuffled() : this.nextSequential();
    if (track) this.lastKey = trackKey(track);
    return track;
  }

  /**
   * Apply an edited playlist, keeping the place: sequential continues after
   * the last song dealt if it is still there; shuffle keeps the songs not yet
   * played this round and slips new ones into it.
   */
  update(playlist: Pick<Playlist, 'tracks' | 'order' | 'loop'>): void {
    const before = new Set(this.tracks.map(trackKey));
    const orderChanged = playlist.order !== this.order;
    this.tracks = [...playlist.tracks];
    this.order = playlist.order;
    this.loop = playlist.loop;
    this.finished = false;
    const keys = this.tracks.map(trackKey);
    if (this.order === 'sequential') {
      const at = this.lastKey === null ? -1 : keys.indexOf(this.lastKey);
      this.cursor = at >= 0 ? at + 1 : Math.min(this.cursor, this.tracks.length);
    } else if (orderChanged) {
      this.bag = [];
    } else {
      const present = new Set(keys);
      this.bag = this.bag.filter((k) => present.has(k));
      for (const k of keys.filter((k) => !before.has(k))) {
        this.bag.splice(Math.floor(this.random() * (this.bag.length + 1)), 0, k);
      }
    }
  }

  private nextSequential(): Track | null {
    if (this.cursor >= this.tracks.length) {
      if (!this.loop) {
        this.finished = true;
        return null;
      }
      this.cursor = 0;
    }
    const track = this.tracks[this.cursor]!;
    this.cursor += 1;
    return track;
  }

  private nextShuffled(): Track | null {
    if (this.bag.length === 0) {
      if (!this.loop && this.lastKey !== null) {
        this.finished = true;
        return null;
      }
      this.bag = this.deal();
    }
    const key = this.bag.pop()!;
    return this.tracks.find((t) => trackKey(t) === key) ?? null;
  }

  private deal(): string[] {
    const keys = [...new Set(this.tracks.map(trackKey))];
    for (let i = keys.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [keys[i], keys[j]] = [keys[j]!, keys[i]!];
    }
    if (keys.length > 1 && keys[keys.length - 1] === this.lastKey) {
      [keys[0], keys[keys.length - 1]] = [keys[keys.length - 1]!, keys[0]!];
    }
    return keys;
  }
}
