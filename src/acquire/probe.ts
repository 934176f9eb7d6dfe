import { PassThrough } from 'node:stream';
import { FfmpegError } from '../kernel/errors.js';
import { SAFE_INPUT_OPTIONS, fileInput } from '../ffmpeg/input.js';
import { ffmpegCommand } from '../ffmpeg/command.js';

export interface MediaTags {
  title?: string;
  artist?: string;
  album?: string;
  durationMs?: number;
  /** The audio codec as ffmpeg names it: `aac`, `mp3`, `vorbis`... */
  codec?: string;
  /** The file holds a picture (cover art attached as a video stream). */
  picture?: boolean;
}

/**
 * Read a file's tags and duration, and check it holds an audio stream. Uses
 * ffmpeg itself (ffmetadata output), so no ffprobe binary is needed.
 */
export function probeMedia(ffmpegPath: string, file: string, timeoutMs = 15_000): Promise<MediaTags> {
  return new Promise((resolve, reject) => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    let codec: { audio?: string; video?: string; duration?: string } | null = null;
    out.on('data', (c: Buffer) => chunks.push(c));
    const command = ffmpegCommand(ffmpegPath, { stdoutLines: 30, timeout: timeoutMs / 1000 })
      .input(fileInput(file))
      .inputOptions(SAFE_INPUT_OPTIONS)
      .format('ffmetadata')
      // Stream tags first (Ogg and Opus keep them there), then global ones on top.
      .outputOptions(['-hide_banner', '-map_metadata:g', '0:s:a:0', '-map_metadata:g', '0:g'])
      .on('codecData', (data: { audio?: string; video?: string; duration?: string }) => {
        codec = data;
      })
      .on('error', (err: Error, _stdout: string | null, stderr: string | null) => {
        const why = (stderr ?? '')
          .trim()
          .split('\n')
          .filter((l) => !/^\s/.test(l))
          .slice(-2)
          .join(' | ');
        reject(new FfmpegError('probe', why || err.message, { cause: err }));
      })
      .on('end', () => {
        const info = codec as { audio?: string; video?: string; duration?: string } | null;
        if (!info?.audio) {
          reject(new FfmpegError('probe', 'no audio stream in the file'));
          return;
        }
        const tags = parseFfmetadata(Buffer.concat(chunks).toString('utf8'));
        const durationMs = parseDuration(info.duration);
        const codecName = /^\w+/.exec(info.audio)?.[0];
        resolve({
          ...tags,
          ...(durationMs === undefined ? {} : { durationMs }),
          ...(codecName ? { codec: codecName } : {}),
          ...(info.video ? { picture: true } : {}),
        });
      });
    command.pipe(out, { end: true });
  });
}

/** `HH:MM:SS.cc` as printed by ffmpeg, in ms; undefined for `N/A`. */
export function parseDuration(s: string | undefined): number | undefined {
  const m = /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(s?.trim() ?? '');
  if (!m) return undefined;
  return Math.round((Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000);
}

/** Tags from ffmpeg's ffmetadata text (escapes: `\=`, `\;`, `\#`, `\\`, `\` newline). */
export function parseFfmetadata(text: string): Pick<MediaTags, 'title' | 'artist' | 'album'> {
  const tags: Record<string, string> = {};
  for (const line of text.replace(/\\\n/g, '\u0000').split('\n')) {
    if (line.startsWith('[')) break; // chapters follow the global section
    if (line.startsWith(';') || line.startsWith('#')) continue;
    const eq = findUnescaped(line, '=');
    if (eq < 0) continue;
    const value = unescape(line.slice(eq + 1))
      .replace(/\u0000/g, '\n')
      .trim();
    if (value) tags[unescape(line.slice(0, eq)).toLowerCase()] = value;
  }
  const out: Pick<MediaTags, 'title' | 'artist' | 'album'> = {};
  if (tags.title) out.title = tags.title;
  const artist = tags.artist ?? tags.album_artist;
  if (artist) out.artist = artist;
  if (tags.album) out.album = tags.album;
  return out;
}

function findUnescaped(s: string, ch: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === ch) return i;
  }
  return -1;
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}
