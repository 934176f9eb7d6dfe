import type { Logger } from 'pino';
import { gainFor, type Analysis } from '../../audio/loudness.js';
import type { Playlist } from '../../config/playlist.js';
import type { Song, SongEnd, SongSource } from '../sources/source.js';

/**
 * How long a song whose analysis is under way may be held back while
 * nothing is on air: a few minutes of music are measured in 1-2 s here; a
 * long mix is not waited for.
 */
export const ANALYSIS_WAIT_MS = 8000;

export interface NormalizeOptions {
  loudness: () => Playlist['loudness'];
  /** Nothing is on air: holding a song back costs silence, not a cut. */
  idle: () => boolean;
  now: () => number;
  log?: Logger;
  waitMs?: number;
}

/**
 * Every song brought to one loudness: sets each song's gain, as it is taken,
 * from its analysis (target minus its integrated loudness, as far as its
 * peaks and the limiter allow) plus its own `gain`. With loudness off, only
 * its own gain. Reads the settings at each song, so an edit applies to the next.
 *
 * A song not analysed yet would play at a typical master's gain, far off
 * for a quiet or loud one. While something is on air that is the price of
 * not cutting it short; when nothing is (a new channel's first song), the
 * song is given back and waited for until its analysis lands (at most
 * ANALYSIS_WAIT_MS), so it too plays at the channel's loudness.
 */
export class Normalize implements SongSource {
  private waiting: { key: string; since: number; until: number; done: boolean; analysis: Analysis | null } | null = null;

  constructor(
    private readonly source: SongSource,
    private readonly opts: NormalizeOptions,
  ) {}

  take(): Song | null {
    const w = this.waiting;
    if (w && !w.done && this.opts.now() < w.until) return null;
    const song = this.source.take();
    if (!song) return null;
    const settings = this.opts.loudness();
    const target = settings !== false && song.normalize !== false ? settings : null;
    const normalizing = target !== null;
    if (w && w.key === song.info.key) {
      song.analysis ??= w.analysis;
      this.opts.log?.info(
        { song: song.label, waitedMs: Math.round(this.opts.now() - w.since), analysed: w.analysis !== null },
        'loudness wait over: the song starts',
      );
    }
    this.waiting = null;
    if (normalizing && !song.analysis && song.analysing && (!w || w.key !== song.info.key) && this.opts.idle()) {
      const now = this.opts.now();
      const next = { key: song.info.key, since: now, until: now + (this.opts.waitMs ?? ANALYSIS_WAIT_MS), done: false, analysis: null as Analysis | null };
      this.waiting = next;
      void song.analysing
        .then((a) => (next.analysis = a))
        .catch(() => null)
        .finally(() => (next.done = true));
      this.opts.log?.info({ song: song.label }, 'nothing on air: waiting for its loudness analysis, so it plays at the channel loudness');
      this.source.giveBack(song);
      this.source.finished(song, { how: 'stopped' });
      return null;
    }
    const own = song.track.gain ?? 0;
    song.gainDb = target ? gainFor(song.analysis, { targetLufs: target.target, ceilingDb: target.ceiling }, own) : own;
    return song;
  }

  prepare(): void {
    this.source.prepare();
  }

  warmUp(): void {
    this.source.warmUp();
  }

  giveBack(song: Song): void {
    this.source.giveBack(song);
  }

  finished(song: Song, end: SongEnd): void {
    this.source.finished(song, end);
  }
}
