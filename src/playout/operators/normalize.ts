import { gainFor } from '../../audio/loudness.js';
import type { Playlist } from '../../config/playlist.js';
import type { Song, SongEnd, SongSource } from '../sources/source.js';

/**
 * Every song brought to one loudness: sets each song's gain, as it is taken,
 * from its analysis (target minus its integrated loudness, as far as its
 * peaks and the limiter allow) plus its own `gain`. With loudness off, only
 * its own gain. Reads the settings at each song, so an edit applies to the next.
 */
export class Normalize implements SongSource {
  constructor(
    private readonly source: SongSource,
    private readonly loudness: () => Playlist['loudness'],
  ) {}

  take(): Song | null {
    const song = this.source.take();
    if (!song) return null;
    const settings = this.loudness();
    const own = song.track.gain ?? 0;
    song.gainDb =
      settings === false || song.normalize === false ? own : gainFor(song.analysis, { targetLufs: settings.target, ceilingDb: settings.ceiling }, own);
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
