import { ffmpegCommand } from '../../ffmpeg/command.js';
import { fileInput } from '../../ffmpeg/input.js';
import { FfmpegError } from '../../kernel/errors.js';
import { imageType } from '../../kernel/image-type.js';

/** The sizes every picture is kept at (longest side, px): history rows, the page's player, the API and hi-dpi screens. */
export const ART_SIZES = [96, 300, 600] as const;
export type ArtSize = (typeof ART_SIZES)[number];

/** A picture larger than this is not cover art (and decoding it would cost ~200 MB): refused before it is decoded. */
export const MAX_ART_PIXELS = 40_000_000;

/**
 * The ffmpeg demuxer for an image's first bytes, or null when they are not
 * JPEG, PNG or WebP: ffmpeg is told the one format, never left to guess.
 */
export function imageDemuxer(head: Buffer): string | null {
  const type = imageType(head);
  return type ? `${type}_pipe` : null;
}

/** What to read a picture from: an image file of a known format, or the first picture attached to a media file. */
export type PictureInput = { kind: 'image'; path: string; demuxer: string } | { kind: 'attached'; path: string; demuxers: readonly string[] };

/**
 * Write one picture as JPEGs at every ART_SIZES (never enlarged, aspect
 * kept), with one ffmpeg: `out(size)` names each file. The input is read
 * as one named format from the local file only, and a picture over
 * MAX_ART_PIXELS is refused by the decoder before it allocates.
 */
export function renderArt(ffmpegPath: string, input: PictureInput, out: (size: ArtSize) => string, timeoutMs = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const chain = ART_SIZES.map((s, i) => `[s${i}]scale=w='min(${s},iw)':h='min(${s},ih)':force_original_aspect_ratio=decrease,format=yuvj420p[o${i}]`);
    const graph = `[0:v:0]split=${ART_SIZES.length}${ART_SIZES.map((_, i) => `[s${i}]`).join('')};${chain.join(';')}`;
    const command = ffmpegCommand(ffmpegPath, { timeout: timeoutMs / 1000 })
      .input(fileInput(input.path))
      .inputOptions([
        '-protocol_whitelist',
        'file',
        ...(input.kind === 'image' ? ['-f', input.demuxer] : ['-format_whitelist', input.demuxers.join(',')]),
        '-max_pixels',
        String(MAX_ART_PIXELS),
      ])
      .complexFilter(graph);
    ART_SIZES.forEach((s, i) => {
      command.output(fileInput(out(s))).outputOptions(['-map', `[o${i}]`, '-frames:v', '1', '-c:v', 'mjpeg', '-q:v', '3', '-f', 'mjpeg', '-y']);
    });
    command
      .on('error', (err: Error, _stdout: string | null, stderr: string | null) => {
        // ffmpeg ends with generic lines ("Conversion failed!"): the first that names a fault says why.
        const lines = (stderr ?? '').split('\n').filter((l) => l && !/^\s/.test(l));
        const telling = lines.filter((l) => /exceeds|invalid|error|unsupported|does not contain|no such/i.test(l));
        const why = (telling.length > 0 ? telling : lines.slice(-2))
          .slice(0, 2)
          .map((l) => l.replace(/\[[\w-]+ @ 0x[0-9a-f]+\] /g, ''))
          .join(' | ');
        reject(new FfmpegError('art', why || err.message, { cause: err }));
      })
      .on('end', () => resolve())
      .run();
  });
}
