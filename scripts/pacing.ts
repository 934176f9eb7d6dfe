/**
 * Pacing measurement: runs the demo channel into a real Icecast for a while
 * and reports how far the audio sent strays from wall-clock time, and what a
 * listener on Icecast received. With --jitter, the event loop is made to wake
 * unevenly (random busy stalls of up to 40 ms) throughout.
 *
 *   npm run pacing -- --seconds 600 --jitter
 */
import { cpSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Mp3FrameSplitter } from '../src/audio/mp3.js';
import { startIcecast } from '../test/helpers/icecast.js';
import { listen } from '../test/helpers/listener.js';
import { captureLogs, runStation, tempDir } from '../test/helpers/station.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '600' }, jitter: { type: 'boolean', default: false } } });
const seconds = Number(values.seconds);

const dir = tempDir('pacing');
cpSync(path.resolve(import.meta.dirname, '../playlists'), dir, { recursive: true });
const ice = await startIcecast();
const station = await runStation({ PLAYLISTS_DIR: dir, ICECAST_URL: ice.sourceUrl, BUILTIN_OUTPUT: 'false', LOG_LEVEL: 'warn' }, captureLogs('warn'));
const channel = station.station.channel('radio')!;

const splitter = new Mp3FrameSplitter();
let samples = 0;
channel.on('audio', (data: Buffer) => {
  for (const f of splitter.push(data)) samples += f.header.samplesPerFrame;
});
let jitterTimer: NodeJS.Timeout | null = null;
let stalls = 0;
if (values.jitter) {
  jitterTimer = setInterval(() => {
    const until = performance.now() + Math.random() * 40;
    while (performance.now() < until) {
      /* a busy moment */
    }
    stalls++;
  }, 37);
}

await new Promise((r) => setTimeout(r, 2000));
// The channel started before this script could subscribe: anchor the count at
// the channel's own figure now, then follow the frames it emits from here on.
const t0 = performance.now();
const s0 = samples;
const e0 = channel.pacingError;
const listener = await listen(`${ice.url}/radio.mp3`, { icy: false });
// Count from 5 s after joining, past Icecast's burst for new listeners.
let l0 = 0;
let l0Bytes = 0;
setTimeout(() => {
  l0 = performance.now();
  l0Bytes = listener.bytes;
}, 5000);
let min = Infinity;
let max = -Infinity;
const samplesAt: number[] = [];
const started = performance.now();
await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    const err = e0 + (samples - s0) / 44100 - (performance.now() - t0) / 1000;
    min = Math.min(min, err);
    max = Math.max(max, err);
    samplesAt.push(err);
    if (performance.now() - started >= seconds * 1000) {
      clearInterval(timer);
      resolve();
    }
  }, 100);
});
if (jitterTimer) clearInterval(jitterTimer);
const wall = (performance.now() - t0) / 1000;
const sent = (samples - s0) / 44100;
const listenWall = (performance.now() - l0) / 1000;
const received = (listener.bytes - l0Bytes) / 16000;
listener.close();
const result = {
  seconds: Number(wall.toFixed(1)),
  jitter: values.jitter,
  eventLoopStalls: stalls,
  sentSeconds: Number(sent.toFixed(3)),
  finalErrorMs: Math.round((e0 + sent - wall) * 1000),
  minErrorMs: Math.round(min * 1000),
  maxErrorMs: Math.round(max * 1000),
  listenerReceivedSeconds: Number(received.toFixed(2)),
  listenerWallSeconds: Number(listenWall.toFixed(2)),
  listenerRatePercent: Number(((received / listenWall) * 100).toFixed(3)),
  listenerDisconnected: listener.closed,
  silencePaddingSeconds: Number(channel.silenceSeconds.toFixed(2)),
};
console.log(JSON.stringify(result));
console.log(
  `pacing over ${result.seconds} s${values.jitter ? ` with ${stalls} random event-loop stalls (0-40 ms)` : ''}: ` +
    `audio sent minus wall clock between ${result.minErrorMs} and ${result.maxErrorMs} ms (final ${result.finalErrorMs} ms); ` +
    `Icecast listener got ${result.listenerReceivedSeconds} s of audio in ${result.listenerWallSeconds} s (${result.listenerRatePercent} %)`,
);
await station.close();
await ice.stop();
process.exit(0);
