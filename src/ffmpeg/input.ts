import type { Readable } from 'node:stream';

/**
 * How every ffmpeg that reads a song (probe, decoder) opens it. A song from
 * the internet is hostile until proven otherwise: ffmpeg left to itself
 * follows playlists and references inside a file (an HLS playlist saved as
 * `song.m4a` plays `file:///anything` it names) and reads `proto:` names.
 */

/**
 * Demuxers a song may be read with: audio containers only. Playlist and
 * reference formats (HLS, concat, M3U inside a "song", image sequences, SDP,
 * and every demuxer that opens other files or URLs) are refused, so a
 * downloaded file can only ever be its own bytes.
 */
export const AUDIO_DEMUXERS = ['mov,mp4,m4a,3gp,3g2,mj2', 'mp3', 'aac', 'flac', 'ogg', 'wav', 'w64', 'aiff', 'matroska,webm', 'asf', 'caf'];

/** Input options that hold ffmpeg to one local file read as audio. */
export const SAFE_INPUT_OPTIONS = ['-protocol_whitelist', 'file', '-format_whitelist', AUDIO_DEMUXERS.join(',')];

/** A local path as an ffmpeg input URL: never read as `proto:...`, whatever its name. */
export function fileInput(p: string): string {
  return `file:${p}`;
}

/** Audio arriving as a stream (a DJ's connection), of a format its Content-Type named. */
export interface StreamInput {
  stream: Readable;
  format: 'mp3' | 'aac' | 'ogg';
}

/**
 * Input options for a live stream: read from the pipe only, as the named
 * format only (no probing that could pick a playlist demuxer), and start
 * decoding after a couple of KiB rather than ffmpeg's default 5 MB / 5 s of
 * probing, or a DJ would be heard seconds late.
 */
export function streamInputOptions(format: StreamInput['format']): string[] {
  return ['-protocol_whitelist', 'pipe', '-f', format, '-probesize', '32', '-analyzeduration', '0', '-fflags', '+nobuffer'];
}
