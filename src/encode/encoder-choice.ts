import { EncoderNotFoundError } from '../kernel/errors.js';
import type { EncoderSpec } from './encoder.js';
import { executable, onPath } from '../ffmpeg/which.js';

export type EncoderPreference = 'auto' | 'lame' | 'ffmpeg';

/**
 * Which program encodes every channel: `lame` when asked for or, on `auto`,
 * whenever it is installed (LAME_PATH or on PATH); else ffmpeg. Both give the
 * same bytes, so `auto` changes only what the machine pays.
 */
export function resolveEncoder(preference: EncoderPreference, lamePath: string | undefined, ffmpegPath: string): EncoderSpec {
  if (preference === 'ffmpeg') return { tool: 'ffmpeg', path: ffmpegPath };
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
