import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { EncoderNotFoundError } from '../kernel/errors.js';
import type { EncoderSpec } from './encoder.js';
import { executable, onPath } from '../ffmpeg/which.js';
import { avcodecLibrary } from './avcodec-lib.js';
import { lameLibrary } from './lame-lib.js';
import { LamePool } from './lame-pool.js';

export type EncoderPreference = 'auto' | 'lib' | 'lame' | 'ffmpeg';

/** Debian's (and most distributions') name for libmp3lame. */
export const LAME_LIBRARY = 'libmp3lame.so.0';

/**
 * Which encoder every channel uses. `auto`: libmp3lame in this process when
 * it loads (no encoder process, no pipes: the cheapest, see
 * docs/benchmarks.md), else the `lame` program when installed (LAME_PATH or
 * on PATH), else ffmpeg. Each can also be asked for by name. All give the
 * same bytes, so the choice changes only what the machine pays.
 */
export function resolveEncoder(preference: EncoderPreference, lamePath: string | undefined, ffmpegPath: string, libraryPath = LAME_LIBRARY): EncoderSpec {
  if (preference === 'ffmpeg') return { tool: 'ffmpeg', path: ffmpegPath };
  if (preference === 'lib') {
    try {
      lameLibrary(libraryPath);
    } catch (err) {
      throw new EncoderNotFoundError(
        `${libraryPath} cannot be loaded (${err instanceof Error ? err.message : String(err)}): apt-get install libmp3lame0, or use MP3_ENCODER=lame`,
      );
    }
    return { tool: 'lib', path: libraryPath };
  }
  if (preference === 'auto' && !lamePath) {
    try {
      lameLibrary(libraryPath);
      return { tool: 'lib', path: libraryPath };
    } catch {
      // Not loadable here (no libmp3lame, no koffi build for this platform): a process then.
    }
  }
  const stdbuf = onPath('stdbuf') ?? undefined;
  if (lamePath) {
    if (!executable(lamePath)) throw new EncoderNotFoundError(`LAME_PATH=${lamePath} is not an executable file`);
    return { tool: 'lame', path: lamePath, stdbuf };
  }
  const found = onPath('lame');
  if (found) return { tool: 'lame', path: found, stdbuf };
  if (preference === 'lame') throw new EncoderNotFoundError('lame is not on PATH: install it (apt-get install lame), set LAME_PATH, or use MP3_ENCODER=ffmpeg');
  return { tool: 'ffmpeg', path: ffmpegPath };
}

export type AacPreference = 'auto' | 'lib' | 'ffmpeg';

/**
 * Which AAC encoder renditions use: ffmpeg's own, either in this process
 * (libavcodec through koffi: `lib`) or as an ffmpeg child per rendition.
 * `auto`: in process when libavcodec 59 loads, else the child. The same
 * encoder both ways; in process it costs the encoding alone.
 */
export function resolveAacEncoder(preference: AacPreference): 'lib' | 'ffmpeg' {
  if (preference === 'ffmpeg') return 'ffmpeg';
  try {
    avcodecLibrary();
    return 'lib';
  } catch (err) {
    if (preference === 'lib') {
      throw new EncoderNotFoundError(
        `libavcodec cannot be used in process (${err instanceof Error ? err.message : String(err)}): apt-get install libavcodec59, or use AAC_ENCODER=ffmpeg`,
        'AAC_ENCODER',
      );
    }
    return 'ffmpeg';
  }
}

/** With ENCODER_THREADS=auto, MP3 encoders move to worker threads once the station has more channels than this. */
export const THREADS_AFTER_CHANNELS = 32;

/**
 * Where in-process MP3 encoders run (ENCODER_THREADS): `pick` is asked as
 * each encoder starts and gives the worker pool (made on first need) or
 * null for the main thread. `auto` keeps a small station's encoders on the
 * main thread, where they cost least (no message hop), and moves them to
 * as many workers as there are cores (at least two) once it has more than
 * THREADS_AFTER_CHANNELS channels, before the main thread fills up. Measured
 * with 100 channels on 2 cores: one worker fell behind (105 s of stand-in
 * silence summed over the channels in 30 s), two kept every channel whole.
 * `channels` must count the channels about to run, not those started so
 * far: counted as they started, a 100-channel station's first 32 encoders
 * stayed on the main thread for good (docs/benchmarks.md).
 */
export function encoderThreads(setting: 'auto' | number, channels: () => number, log?: Logger): { pick: () => LamePool | null; close: () => Promise<void> } {
  const size = setting === 'auto' ? Math.max(2, availableParallelism()) : setting;
  let pool: LamePool | null = null;
  return {
    pick: () => {
      if (size === 0 || (setting === 'auto' && channels() <= THREADS_AFTER_CHANNELS)) return null;
      return (pool ??= new LamePool(size, log));
    },
    close: async () => {
      await pool?.close();
    },
  };
}
