/**
 * Run by the limits test under `ulimit -n 64`: uses up every descriptor,
 * then starts a decoder and an encoder, and prints what each reported. Exits
 * 0 only if neither start ended the process. With `launcher` after the song,
 * the decoder is started as a big station starts it (ffmpeg/launcher.ts).
 */
import { openSync } from 'node:fs';
import { pino } from 'pino';
import { PcmDecoder } from '../../src/decode/decoder.js';
import { resolveEncoder } from '../../src/encode/encoder-choice.js';
import { PcmEncoder } from '../../src/encode/encoder.js';
import { resolveFfmpegPath } from '../../src/ffmpeg/binaries.js';
import { launchWhen } from '../../src/ffmpeg/launcher.js';

const song = process.argv[2]!;
if (process.argv[3] === 'launcher') launchWhen(() => true);
const ffmpeg = resolveFfmpegPath();
// The program, not the library: what is tested is a process that cannot start.
const lame = resolveEncoder('lame', undefined, ffmpeg);
const held: number[] = [];
try {
  for (;;) held.push(openSync('/dev/null', 'r'));
} catch (err) {
  if ((err as NodeJS.ErrnoException).code !== 'EMFILE') throw err;
}
const decoder = new PcmDecoder(ffmpeg, song);
await decoder.done;
const encoder = await new Promise<string>((resolve) => {
  const enc = new PcmEncoder(lame, 128, pino({ level: 'silent' }));
  enc.once('failed', (err: Error) => resolve(err.message));
});
console.log(JSON.stringify({ held: held.length, tool: lame.tool, decoder: decoder.error?.message ?? null, encoder }));
