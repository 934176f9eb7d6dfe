/**
 * The shapes playout is composed of, in the spirit of Liquidsoap's source
 * graph: song sources hand out songs in play order (a playlist; later a
 * schedule, a live input), operators wrap them (normalize sets each song's
 * gain), and a mixer turns songs into one PCM stream (crossfade), which the
 * channel clocks, limits, encodes and sends.
 *
 *   PlaylistSource (per list) -> ProgrammeSource (schedule, jingles, requests)
 *     -> LiveSwitch -> normalize -> Crossfade -> Channel (limiter, encoder, pacer) -> outputs
 */
import type { Analysis } from '../../audio/loudness.js';
import type { Track } from '../../config/playlist.js';
import type { TrackInfo } from '../../acquire/track-info.js';

/** One song's PCM (s16le stereo at the channel's rate), on demand: a decoder, or a fake one in tests. */
export interface PcmFeed {
  /** Up to `maxBytes` (whole frames); null when none is ready now. May be a view of the feed's buffer: read it before asking the feed again. */
  take(maxBytes: number): Buffer | null;
  /** Read ahead until `bytes` are buffered (or none is ready now); returns the bytes buffered. */
  lookahead(bytes: number): number;
  /** Every byte left is buffered: `lookahead` says exactly how much remains. */
  readonly complete: boolean;
  /** Every byte was taken. */
  readonly ended: boolean;
  /** Why it stopped early (a corrupt file, a killed process), if it did. */
  readonly error: Error | null;
  /** Give up on a feed that makes no progress; it ends with `reason` as its error. */
  abandon(reason: string): void;
  destroy(): void;
}

/** A song handed out to play. */
export interface Song {
  info: TrackInfo;
  /** For logs: where it comes from, never a secret. */
  label: string;
  /** Its own gain and fades (a playlist entry's; a live show's settings). */
  track: Pick<Track, 'gain' | 'fadeIn' | 'fadeOut'>;
  analysis: Analysis | null;
  /** Its analysis under way, when it is not known yet (resolves null if it fails). */
  analysing?: Promise<Analysis | null> | null;
  feed: PcmFeed;
  /** Seconds it plays for (cues applied), when known ahead. */
  seconds: number | null;
  /** False: not brought to the channel's loudness (a jingle set so), only its own gain. Default true. */
  normalize?: boolean;
  /** dB applied to it (normalization plus its own gain); set by normalize. */
  gainDb: number;
  /** For a song whose level is followed as it plays (a live show): the dB to apply now, read at every mix. */
  gainNowDb?: () => number;
  /** Milliseconds it may give no audio before the mixer gives up on it; default the mixer's. A live show keeps its own watch. */
  stallMs?: number;
}

/** How a song left the air: played to its end, stopped early (skip, close), or failed to play at all. */
export type SongEnd = { how: 'ended' } | { how: 'stopped' } | { how: 'failed'; error: Error };

/** Where songs come from, in play order. */
export interface SongSource {
  /** Top up the songs being prepared; called on every tick. */
  prepare(): void;
  /** The next song to play now, or null if none is ready. */
  take(): Song | null;
  /** Start the next song's decoder now: the song on air is near its end. */
  warmUp(): void;
  /** A song handed out left the air. */
  finished(song: Song, end: SongEnd): void;
  /**
   * A song handed out was cut before it was the song on air (a skip or a
   * takeover in the first part of its crossfade, or before its first audio):
   * hand it out again, next, from its start. Its `finished` still follows
   * when it leaves the mix.
   */
  giveBack(song: Song): void;
}

/** Where in a mixed stream a song's title goes up. */
export interface Mark {
  /** Frame offset in the chunk read. */
  frame: number;
  song: Song;
}
