// The floor of the design sCast ships, measured beside it in `npm run bench`:
// a node process that encodes with libmp3lame loaded in itself (koffi, as
// the station does: src/encode/lame-lib.ts) and does nothing else. Before
// connecting it decodes the first minute of one bench song to PCM, so it
// encodes the same kind of audio as every tool (a tone costs LAME ~40 % less
// than music); then every 250 ms, the station's calm tick, it encodes 250 ms
// of that PCM at sCast's settings and sends the MP3 to Icecast (PUT). No
// decoder process, no mixing, no titles, no pacing logic, no HTTP side.
// Plain JS run by plain node: no loader in the measured process.
//
//   node scripts/lib/floor-lib-source.mjs <icecast host> <port> <mount> <source password> <song file>
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { putSource } from './floor-put.mjs';

const [host, port, mount, password, song] = process.argv.slice(2);
const RATE = 44100;
const TICK_MS = 250;
const tickSamples = (RATE * TICK_MS) / 1000;

// A minute of the song, looped: 10 MB of PCM held, decoded before the measured window opens.
const pcm = execFileSync('ffmpeg', ['-v', 'error', '-nostdin', '-t', '60', '-i', song, '-f', 's16le', '-ac', '2', '-ar', String(RATE), '-'], {
  maxBuffer: 64 << 20,
});

const koffi = createRequire(import.meta.url)('koffi');
const lib = koffi.load('libmp3lame.so.0');
const gfp = lib.func('void *lame_init()')();
// sCast's settings (src/encode/lame-lib.ts): CBR 128, joint stereo, LAME's default quality 3, no Xing tag.
for (const [name, value] of [
  ['lame_set_num_channels', 2],
  ['lame_set_in_samplerate', RATE],
  ['lame_set_out_samplerate', RATE],
  ['lame_set_brate', 128],
  ['lame_set_mode', 1],
  ['lame_set_VBR', 0],
  ['lame_set_bWriteVbrTag', 0],
]) {
  if (lib.func(`int ${name}(void *gfp, int value)`)(gfp, value) < 0) throw new Error(`${name} refused`);
}
if (lib.func('int lame_init_params(void *gfp)')(gfp) < 0) throw new Error('lame_init_params refused');
const encode = lib.func('int lame_encode_buffer_interleaved(void *gfp, int16_t *pcm, int n, uint8_t *mp3buf, int size)');
const out = Buffer.allocUnsafe(Math.ceil(1.25 * tickSamples) + 7200);

const socket = await putSource(host, port, mount, password, 'floor (libmp3lame in process)');

let at = 0;
function sendTick() {
  if (at + tickSamples * 4 > pcm.length) at = 0;
  const n = encode(gfp, new Int16Array(pcm.buffer, pcm.byteOffset + at, tickSamples * 2), tickSamples, out, out.length);
  at += tickSamples * 4;
  if (n > 0) socket.write(Buffer.from(out.subarray(0, n)));
}

// Half a second ahead first, as sCast's lead does, then one tick's worth each tick, on a clock that does not drift.
sendTick();
sendTick();
const t0 = performance.now();
let ticks = 0;
function tick() {
  sendTick();
  ticks += 1;
  setTimeout(tick, t0 + (ticks + 1) * TICK_MS - performance.now());
}
setTimeout(tick, TICK_MS);
