// The floor of sCast's design, measured beside it in `npm run bench`: a node
// process that only does what any node streamer feeding `lame` must do.
// Every 100 ms it writes 100 ms of a ready-made tone to `lame` (sCast's
// arguments, output in 100 ms blocks), takes the MP3 that came back and sends
// it to Icecast (PUT). No decoding, no mixing, no titles, no pacing logic.
// Plain JS run by plain node: no loader in the measured process.
//
//   node scripts/lib/floor-source.mjs <icecast host> <port> <mount> <source password>
import { spawn } from 'node:child_process';
import { putSource } from './floor-put.mjs';

const [host, port, mount, password] = process.argv.slice(2);
const RATE = 44100;
const TICK_MS = 100;
const tickBytes = (RATE * 4 * TICK_MS) / 1000;

// One tick of a 440 Hz tone, s16le stereo (100 ms holds 44 whole periods: it loops without a click).
const pcm = Buffer.alloc(tickBytes);
for (let i = 0; i < tickBytes / 4; i++) {
  const v = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / RATE));
  pcm.writeInt16LE(v, i * 4);
  pcm.writeInt16LE(v, i * 4 + 2);
}

const socket = await putSource(host, port, mount, password, 'floor');

// 128 kbit/s: 100 ms is about 3.8 MP3 frames; sCast lets lame write in blocks of whole frames per tick.
const blockBytes = Math.round((Math.floor(TICK_MS / ((1152 / RATE) * 1000)) * 1152 * 128_000) / 8 / RATE);
const lameArgs = [
  '-r',
  '-s',
  '44.1',
  '--bitwidth',
  '16',
  '--signed',
  '--little-endian',
  '-m',
  'j',
  '-b',
  '128',
  '--cbr',
  '--resample',
  '44.1',
  '-t',
  '--quiet',
  '-',
  '-',
];
const lame = spawn('stdbuf', [`-o${blockBytes}`, 'lame', ...lameArgs], { stdio: ['pipe', 'pipe', 'ignore'] });
lame.on('exit', () => process.exit(1));
const out = [];
lame.stdout.on('data', (chunk) => out.push(chunk));

// Half a second ahead first, as sCast's lead does, then one tick's worth each tick.
for (let i = 0; i < 5; i++) lame.stdin.write(pcm);
setInterval(() => {
  lame.stdin.write(pcm);
  if (out.length > 0) socket.write(out.length === 1 ? out[0] : Buffer.concat(out));
  out.length = 0;
}, TICK_MS);
