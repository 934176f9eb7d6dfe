import type { Logger } from 'pino';
import type { Entry, Track } from '../../../config/playlist.js';
import { PlaylistSource, type PlaylistSourceOptions } from '../playlist/playlist-source.js';
import type { ListSpec } from '../playlist/queue.js';
import { TrackList, type OpenCollection } from './track-list.js';

/** What every list of a channel shares: how songs are prepared, the rotation rules, the clock. */
export type ListDeps = Omit<PlaylistSourceOptions, 'list' | 'log'> & { openCollection: OpenCollection };

let versions = 0;

/**
 * One list of a programme (the channel's own, a schedule block's, the
 * jingles'): its entries read into songs (TrackList) and played by a
 * PlaylistSource, which is told each time the songs change (a file added
 * to a folder, a QQ playlist edited upstream) and keeps its place.
 */
export class ListRunner {
  readonly source: PlaylistSource;
  private readonly tracks: TrackList;
  private order: ListSpec['order'];
  private loop: boolean;
  private lastSize = -1;
  /** Changes each time its songs may have changed; unique across runners, so a replaced list counts as a change. */
  version = ++versions;

  constructor(
    readonly name: string | null,
    entries: readonly Entry[],
    spec: Pick<ListSpec, 'order' | 'loop'>,
    deps: ListDeps,
    private readonly log: Logger,
  ) {
    this.order = spec.order;
    this.loop = spec.loop;
    this.tracks = new TrackList(deps.openCollection, log);
    this.source = new PlaylistSource({ ...deps, log, list: { tracks: [], order: this.order, loop: this.loop } });
    this.tracks.on('change', () => this.changed());
    this.tracks.set(entries);
  }

  /** Its songs now (collections read). */
  get songs(): readonly Track[] {
    return this.tracks.tracks;
  }

  /** The list was edited. */
  set(entries: readonly Entry[], spec: Pick<ListSpec, 'order' | 'loop'>): void {
    this.order = spec.order;
    this.loop = spec.loop;
    this.tracks.set(entries);
  }

  close(): void {
    this.tracks.close();
    this.source.close();
  }

  private changed(): void {
    this.version = ++versions;
    const { tracks, weights } = this.tracks.weighted;
    this.source.update({ tracks, order: this.order, loop: this.loop, weights });
    if (tracks.length !== this.lastSize) this.log.debug({ list: this.name ?? 'main', songs: tracks.length }, 'list read');
    this.lastSize = tracks.length;
  }
}
