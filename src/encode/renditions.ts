import type { Logger } from 'pino';
import type { PacedFrame } from '../audio/mp3.js';
import type { Rendition } from '../config/playlist.js';
import type { TrackInfo } from '../acquire/track-info.js';
import { EncoderError } from '../kernel/errors.js';
import type { EncoderSpec } from './encoder.js';
import { resolveAacEncoder, type AacPreference } from './encoder-choice.js';
import { AacAdtsEncoding } from './aac-encoding.js';
import { EncodingSession } from './encoding.js';
import { OpusOggEncoding } from './opus-encoding.js';
import { opusLibrary } from './opus-lib.js';

/**
 * libopus's CPU against quality (0-10). Measured on this project's 2-core
 * machine, 64 kbit/s stereo, a music-like signal, resampling included:
 * 10 costs 0.78 % of a core, 8 0.75 %, 5 0.46 %, 3 0.40 %. 5 keeps a
 * rendition well under 1 % of a core (docs/benchmarks.md).
 */
export const OPUS_COMPLEXITY = 5;

export interface RenditionEncoders {
  /** The channel's MP3 encoder: MP3 renditions use the same. */
  mp3: EncoderSpec;
  /** ffmpeg, for AAC when not in process (its native AAC-LC encoder, a child process). */
  ffmpeg: string;
  /** Where AAC is encoded: in this process (libavcodec, loaded when a rendition first needs it) or by ffmpeg. */
  aac: AacPreference;
  log: Logger;
}

export interface EncodingCallbacks {
  outputBlockMs: number;
  onFrame: (frame: PacedFrame<TrackInfo>) => void;
  onFailed: (err: Error) => void;
}

/** What runs a rendition's encoder; see Encoding (playout/encoder-keeper.ts). */
export function startRenditionEncoding(r: Rendition, with_: RenditionEncoders, o: EncodingCallbacks) {
  if (r.codec === 'opus') {
    try {
      return new OpusOggEncoding({ bitrateKbps: r.bitrate, complexity: OPUS_COMPLEXITY, onFrame: o.onFrame, onFailed: o.onFailed });
    } catch (err) {
      return failedEncoding(new EncoderError('opus', `cannot start: ${err instanceof Error ? err.message : String(err)}`), o.onFailed);
    }
  }
  if (r.codec === 'aac' && resolveAacEncoder(with_.aac) === 'lib') {
    try {
      return new AacAdtsEncoding({ bitrateKbps: r.bitrate, onFrame: o.onFrame, onFailed: o.onFailed });
    } catch (err) {
      return failedEncoding(new EncoderError('aac', `cannot start: ${err instanceof Error ? err.message : String(err)}`), o.onFailed);
    }
  }
  const spec: EncoderSpec = r.codec === 'aac' ? { tool: 'ffmpeg', path: with_.ffmpeg } : with_.mp3;
  return new EncodingSession(spec, r.bitrate, with_.log, { outputBlockMs: o.outputBlockMs, codec: r.codec }, o.onFrame, o.onFailed);
}

/** Whether libopus and libsoxr load here: a playlist asking for Opus is told at once when not. */
export function opusAvailable(): string | null {
  try {
    opusLibrary();
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** An encoder that could not start: reported as its failure, as a process that cannot start is (the keeper retries). */
function failedEncoding(err: Error, onFailed: (err: Error) => void) {
  queueMicrotask(() => onFailed(err));
  return {
    fedSamples: 0,
    running: false,
    write: () => undefined,
    markSongStart: () => undefined,
    close: () => Promise.resolve(),
    destroy: () => undefined,
  };
}
