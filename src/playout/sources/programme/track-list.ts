import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { isCollection, type CollectionEntry, type Entry, type Track } from '../../../config/playlist.js';
import type { Collection } from '../../../acquire/collections/collection.js';
import type { Weights } from '../playlist/queue.js';

/** Opens a collection entry (a folder, an M3U, a QQ playlist) as songs kept in step. */
export type OpenCollection = (entry: CollectionEntry, log: Logger) => Collection;

/**
 * A list's entries read into songs: song entries as they are, collections
 * as the songs they hold now. A collection stays open across edits of the
 * list while its entry is unchanged, so an edit elsewhere never re-reads a
 * folder of 10 000 files.
 *
 * Events: `change` when the songs may differ.
 */
export class TrackList extends EventEmitter {
  private entries: readonly Entry[] = [];
  private readonly open = new Map<string, Collection>();

  constructor(
    private readonly openCollection: OpenCollection,
    private readonly log: Logger,
  ) {
    super();
  }

  /** The list's songs now (collections not read yet count as none). */
  get tracks(): Track[] {
    return this.entries.flatMap((e) => (isCollection(e) ? [...(this.open.get(JSON.stringify(e))?.tracks ?? [])] : [e]));
  }

  /**
   * The list's songs with their groups, when an entry has a weight: songs
   * of a weighted collection form its group, every other song group 0.
   */
  get weighted(): { tracks: Track[]; weights: Weights | null } {
    if (!this.entries.some((e) => isCollection(e) && e.weight !== undefined)) return { tracks: this.tracks, weights: null };
    const tracks: Track[] = [];
    const groupOf = new Map<Track, number>();
    const weight = [1];
    for (const e of this.entries) {
      if (!isCollection(e)) {
        tracks.push(e);
        continue;
      }
      const songs = this.open.get(JSON.stringify(e))?.tracks ?? [];
      const group = e.weight === undefined ? 0 : weight.push(e.weight) - 1;
      for (const t of songs) {
        tracks.push(t);
        if (group > 0) groupOf.set(t, group);
      }
    }
    return { tracks, weights: { groupOf, weight } };
  }

  /** New entries: collections no longer listed are closed, new ones opened. */
  set(entries: readonly Entry[]): void {
    this.entries = entries;
    const wanted = new Set(entries.filter(isCollection).map((e) => JSON.stringify(e)));
    for (const [key, c] of this.open) {
      if (wanted.has(key)) continue;
      c.close();
      this.open.delete(key);
    }
    for (const e of entries) {
      if (!isCollection(e)) continue;
      const key = JSON.stringify(e);
      if (this.open.has(key)) continue;
      const c = this.openCollection(e, this.log);
      c.on('change', () => this.emit('change'));
      this.open.set(key, c);
    }
    this.emit('change');
  }

  close(): void {
    for (const c of this.open.values()) c.close();
    this.open.clear();
  }
}
