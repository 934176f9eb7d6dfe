import { EventEmitter } from 'node:events';
import type { Track } from '../../../config/playlist.js';
import { QueueFullError } from '../../../kernel/errors.js';
import type { MediaResolver } from '../../../acquire/resolver.js';
import type { TrackInfo } from '../../../acquire/track-info.js';
import type { PcmFeed, Song, SongEnd, SongSource } from '../source.js';
import type { ListSpec } from './queue.js';
import { Selection, type SelectionOptions } from './selection.js';
import { Upcoming, readyOf, type DecoderChoice, type Ready, type Slot } from './upcoming.js';

/** Songs the control API may queue ahead on one channel. */
export const MAX_REQUESTED = 20;

/** The selection's options (playlist, log, clock, retry policies), and how songs are prepared. */
export interface PlaylistSourceOptions extends SelectionOptions {
  resolver: MediaResolver;
  /** Which ffmpeg decodes a song (one short-lived process per song), by codec. */
  decoderFor: DecoderChoice;
  /** How a prepared song's PCM is read; default an ffmpeg decoder (tests give fake ones). */
  openFeed?: ((ready: Ready) => PcmFeed) | undefined;
}

/**
 * A playlist as a song source: which song comes next (Selection), songs
 * prepared ahead while others play (Upcoming), songs asked for by hand
 * first, and the place kept across edits.
 *
 * Events: `skipped` ({ track, reason }) when a song cannot be played.
 */
export class PlaylistSource extends EventEmitter implements SongSource {
  private readonly selection: Selection;
  private readonly upcoming: Upcoming;
  /** Songs handed out and not yet finished, with their slots. */
  private readonly out = new Map<Song, Slot>();
  /** The entry of the song handed out last (the place in the list). */
  private lastEntry: string | null = null;
  private list: ListSpec;

  constructor(private readonly opts: PlaylistSourceOptions) {
    super();
    this.list = opts.list;
    this.selection = new Selection(opts);
    this.upcoming = new Upcoming(opts.resolver, opts.decoderFor, opts.log, opts.now, opts.openFeed);
  }

  /** Songs in the list (collections read). */
  get size(): number {
    return this.list.tracks.length;
  }

  /** The song prepared to play next, if known. */
  get next(): TrackInfo | Track | null {
    const slot = this.upcoming.first;
    return slot ? (readyOf(slot)?.info ?? slot.track) : null;
  }

  prepare(): void {
    this.upcoming.fill(() => this.selection.draw());
  }

  take(): Song | null {
    for (;;) {
      const slot = this.upcoming.takePlayable();
      if (!slot) return null;
      if (slot.state.is === 'failed') {
        this.failed(slot, slot.state.error);
        // Start preparing its replacement now: a run of broken songs costs no extra silence.
        this.prepare();
        continue;
      }
      this.selection.started();
      if (slot.state.is !== 'ready') continue; // cannot happen: takePlayable hands out prepared slots only
      const ready = slot.state.ready;
      const broke = slot.entry !== null ? this.opts.rotation?.learn(slot.track, ready.info.artist, this.selection) : null;
      if (broke)
        this.opts.log.info(
          { song: broke.song, rule: broke.rule },
          `rotation rule broken: ${broke.rule}; a song was lined up before its tags named its artist (known from now on)`,
        );
      const song: Song = {
        // Its own copy: the channel knows each hand-out by it (a song given back and played again is another).
        info: { ...ready.info },
        label: slot.label,
        track: slot.track,
        analysis: ready.analysis,
        analysing: ready.analysis ? null : ready.analysing,
        feed: this.upcoming.feedOf(ready),
        seconds: ready.info.durationMs !== undefined ? ready.info.durationMs / 1000 : null,
        gainDb: 0,
      };
      this.out.set(song, slot);
      if (slot.entry !== null) this.lastEntry = slot.entry;
      return song;
    }
  }

  warmUp(): void {
    this.upcoming.warmUp();
  }

  /** First in line again, prepared anew (its decoder restarts from its cue-in). */
  giveBack(song: Song): void {
    const slot = this.out.get(song);
    if (!slot) return;
    this.opts.log.info({ song: slot.label }, 'cut before it was on air: plays next');
    this.upcoming.putBack(slot);
  }

  finished(song: Song, end: SongEnd): void {
    const slot = this.out.get(song);
    if (!slot) return;
    this.out.delete(song);
    song.feed.destroy();
    readyOf(slot)?.release();
    if (end.how === 'failed') this.failed(slot, new Error(`decode: ${end.error.message}`));
  }

  /** A song reached the air (its title went up): its slate is clean. */
  played(key: string): void {
    this.selection.played(key);
  }

  /**
   * An edited playlist, without cutting the songs on air and keeping the
   * place: songs already prepared stay prepared if they are still what comes
   * next (same entry, same fields); the others go back to the queue, which
   * resumes at the first of them still listed.
   */
  update(list: ListSpec): void {
    this.list = list;
    const keep = this.selection.update(list, this.upcoming.dealt, this.lastEntry);
    this.upcoming.dropDealt(keep);
  }

  /**
   * The list goes off the air for a while (a schedule block ended): songs
   * prepared and not played go back to the list, their files and decoders
   * are let go, and the place is kept for next time. Requests stay.
   */
  rest(): void {
    this.selection.update(this.list, this.upcoming.dealt, this.lastEntry, { keepNone: true });
    this.upcoming.dropDealt(0);
  }

  /** Play `track` next, after earlier requests; bounded (QueueFullError past MAX_REQUESTED). Returns its position. */
  request(track: Track, channelId: string): number {
    const waiting = this.upcoming.requestedCount;
    if (waiting >= MAX_REQUESTED) throw new QueueFullError(channelId, MAX_REQUESTED);
    this.upcoming.request(track);
    return waiting + 1;
  }

  /** Give up everything prepared (the channel closes); songs on air are finished by their mixer. */
  close(): void {
    this.upcoming.clear({ keepRequested: false });
  }

  private failed(slot: Slot, err: unknown): void {
    this.emit('skipped', { track: slot.track, reason: err });
    this.selection.failed(slot.track, slot.label, err);
  }
}
