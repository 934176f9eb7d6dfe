import { createRequire } from 'node:module';
import { FfmpegNotFoundError } from '../kernel/errors.js';
import { executable, onPath } from './which.js';

/** The binary shipped in @ffmpeg-installer/ffmpeg (an optional dependency), if installed. */
function bundled(): string | null {
  try {
    const require = createRequire(import.meta.url);
    const mod = require('@ffmpeg-installer/ffmpeg') as { path?: string };
    return mod.path && executable(mod.path) ? mod.path : null;
  } catch {
    return null;
  }
}

/**
 * Which ffmpeg to run: FFMPEG_PATH, else ffmpeg on PATH, else the npm-shipped
 * binary, so the station runs on a machine with no system ffmpeg at all.
 */
export function resolveFfmpegPath(configured?: string): string {
  const tried: string[] = [];
  if (configured) {
    if (executable(configured)) return configured;
    throw new FfmpegNotFoundError([`FFMPEG_PATH=${configured} (not an executable file)`]);
  }
  const system = onPath('ffmpeg');
  if (system) return system;
  tried.push('ffmpeg on PATH');
  const shipped = bundled();
  if (shipped) return shipped;
  tried.push('@ffmpeg-installer/ffmpeg');
  throw new FfmpegNotFoundError(tried);
}

/**
 * Codecs the npm-shipped static ffmpeg (a 2018 build) decodes sample for
 * sample like Debian's ffmpeg 5.1 (checked on AAC in MP4 at 44.1 and 48 kHz,
 * MP3, FLAC, WAV). Not Vorbis: it ignores Ogg's end trimming and adds ~6 ms
 * of silence at the end of a song.
 */
const SHIPPED_DECODES_EXACTLY = new Set(['aac', 'mp3', 'flac', 'pcm_s16le', 'pcm_s24le', 'pcm_f32le']);

/**
 * Which ffmpeg decodes a song. FFMPEG_DECODER_PATH for every song when set.
 * Else, for the operator's own files, the npm-shipped static binary when
 * installed, for the codecs it decodes exactly (a decoder is a process per
 * song: the static build starts in ~10 ms with ~13 MB, where a
 * distribution's dynamically linked ffmpeg takes ~60 ms and ~10 MB of
 * private relocated pages). Downloads from the internet are decoded by the
 * main ffmpeg: the static build dates from 2018 and has none of the
 * decoder security fixes since; Debian's gets them with the distribution.
 */
export function decoderChoice(configured: string | undefined, main: string): (codec: string | undefined, trusted: boolean) => string {
  if (configured) {
    if (!executable(configured)) throw new FfmpegNotFoundError([`FFMPEG_DECODER_PATH=${configured} (not an executable file)`]);
    return () => configured;
  }
  const shipped = bundled();
  if (!shipped || shipped === main) return () => main;
  return (codec, trusted) => (trusted && codec !== undefined && SHIPPED_DECODES_EXACTLY.has(codec) ? shipped : main);
}

/** ffmpeg builds to probe with, in order: for the operator's own files, and for downloads from the internet. */
export interface ProberChoice {
  trusted: readonly string[];
  untrusted: readonly string[];
}

/**
 * Which ffmpeg binaries probe a file, in order: FFMPEG_DECODER_PATH alone
 * when set; else, for the operator's own files, the npm-shipped static build
 * first (~10 ms of CPU per probe against ~50 ms for Debian's), then the main
 * one for what the older build cannot read; for downloads, the main one
 * only (see decoderChoice).
 */
export function proberChoice(configured: string | undefined, main: string): ProberChoice {
  if (configured) return { trusted: [configured], untrusted: [configured] };
  const shipped = bundled();
  return { trusted: shipped && shipped !== main ? [shipped, main] : [main], untrusted: [main] };
}

/** Whether `main` is the 2018 static build itself (no system ffmpeg): worth a warning, since downloads are then decoded by it. */
export function mainIsShippedBuild(main: string): boolean {
  return bundled() === main;
}
