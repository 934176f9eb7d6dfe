/**
 * A study of the design issue 28's ten-channel target would need: each song
 * encoded once (decoded, gained, limited, LAME), its frames sent as they are
 * on air, only crossfades mixed and encoded live. Not the station's code: it
 * measures what that design costs and whether its joins are clean, so the
 * choice is made on figures.
 *
 *   node --expose-gc --import tsx scripts/study-encode-once.ts --songs music|tones --channels 10 --seconds 30 [--crossfade 3]
 *
 * Prints: (1) the once-per-song cost (every song new to the station);
 * (2) the joins: the stream decoded against its source PCM, next to one
 * continuous encode of the same PCM, and a naive join (no bit-reservoir
 * patch) as the control; (3) on air: N channels paced by one clock, a
 * listener of channel 0 over HTTP, CPU of the process and its main thread.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { MP3_FRAME_SAMPLES as F } from '../src/audio/mp3.js';
import { tempDir } from '../test/helpers/station.js';
import { makeBenchSongs, songKind } from './lib/bench-songs.js';
import { encodeWhole, ends, join, pieceBytes, prepare, type Join, type Piece } from './lib/encode-once.js';
import { mainThreadCpuSeconds } from './lib/proc.js';

const { values } = parseArgs({
  options: {
    songs: { type: 'string', default: 'music' },
    channels: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '30' },
    crossfade: { type: 'string', default: '3' },
  },
});
const crossfade = Number(values.crossfade);
const channels = Number(values.channels);
const seconds = Number(values.seconds);
const ceiling = 10 ** (-1 / 20);
const gain = 10 ** (-2 / 20);

/** CPU seconds of this process and its reaped children (the decoders). */
function cpuNow(): number {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
}

// 1. Once per song.
const songs = await makeBenchSongs(songKind(values.songs), tempDir('study-songs'));
// One song first, unmeasured: a running station's code is warm (the limiter's first pass runs 2-3x slower, before the JIT).
prepare(songs[0]!.file, gain, ceiling);
const c0 = cpuNow();
const w0 = performance.now();
const full = songs.map((s) => prepare(s.file, gain, ceiling));
const prepCpu = cpuNow() - c0;
const audioSeconds = full.reduce((n, p) => n + p.samples / 44100, 0);
console.log(
  `once per song: ${songs.length} songs, ${audioSeconds.toFixed(0)} s of audio in ${prepCpu.toFixed(2)} s of CPU (${((performance.now() - w0) / 1000).toFixed(1)} s wall): ` +
    `${((prepCpu / audioSeconds) * 100).toFixed(3)} % of a core per channel while every song is new`,
);

// 2. The joins, decoded.
function decode(mp3: Buffer): { pcm: Int16Array; errors: string[] } {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-f', 'mp3', '-i', '-', '-f', 's16le', '-ac', '2', '-'], { input: mp3, maxBuffer: 1 << 30 });
  return { pcm: new Int16Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.length >> 1), errors: r.stderr.toString().split('\n').filter(Boolean) };
}

interface Stream {
  pieces: Piece[];
  joins: number[];
}

/** Songs 0..n-1 and back to 0, joined; `naive` skips the reservoir patches (the control). */
function chain(order: number[], naive: boolean): { stream: Stream; reference: Int16Array } | null {
  const pieces: Piece[] = [];
  const joinFrames: number[] = [];
  const ref: Int16Array[] = [];
  let from = 0;
  let at = 0;
  for (let k = 0; k + 1 < order.length; k++) {
    const a = full[order[k]!]!;
    const j = join(a, full[order[k + 1]!]!, crossfade, ceiling);
    if (!j) return null;
    pieces.push({ mp3: a.mp3, frames: a.frames, from, to: j.aTo, patches: naive ? new Map() : j.aPatches });
    ref.push(a.pcm.subarray(from * F * 2, j.aTo * F * 2));
    at += j.aTo - from;
    joinFrames.push(at);
    pieces.push({ ...j.x, patches: naive ? new Map() : j.x.patches });
    ref.push(j.xPcm.subarray(j.x.from * F * 2, j.x.to * F * 2));
    at += j.x.to - j.x.from;
    joinFrames.push(at);
    from = j.bFrom;
  }
  const last = full[order.at(-1)!]!;
  const to = from + 200;
  pieces.push({ mp3: last.mp3, frames: last.frames, from, to, patches: new Map() });
  ref.push(last.pcm.subarray(from * F * 2, to * F * 2));
  const reference = new Int16Array(ref.reduce((n, r) => n + r.length, 0));
  let o = 0;
  for (const r of ref) {
    reference.set(r, o);
    o += r.length;
  }
  return { stream: { pieces, joins: joinFrames }, reference };
}

/** Error against the source, dB under full scale, per 1152-sample window, the decoder's delay found first. */
function windowErrors(decoded: Int16Array, source: Int16Array, delay: number): Float64Array {
  const windows = Math.floor(source.length / 2 / F) - 2;
  const out = new Float64Array(windows);
  for (let w = 0; w < windows; w++) {
    let e = 0;
    for (let i = w * F; i < (w + 1) * F; i++)
      for (let c = 0; c < 2; c++) {
        const d = (decoded[(i + delay) * 2 + c] ?? 0) - source[i * 2 + c]!;
        e += d * d;
      }
    out[w] = 10 * Math.log10(e / (2 * F) / 32768 ** 2 + 1e-12);
  }
  return out;
}

/** LAME's and the decoder's delay together, found on noise (a tone's period would make it ambiguous). */
function codecDelay(): number {
  const noise = new Int16Array(44100 * 2 * 2);
  let seed = 1;
  for (let i = 0; i < noise.length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    noise[i] = (seed % 16000) - 8000;
  }
  const decoded = decode(encodeWhole(noise)).pcm;
  let best = 0;
  let bestErr = Infinity;
  for (let d = 0; d < 3000; d++) {
    let e = 0;
    for (let i = 22050; i < 22050 + 4096; i++) {
      const x = decoded[(i + d) * 2]! - noise[i * 2]!;
      e += x * x;
    }
    if (e < bestErr) [best, bestErr] = [d, e];
  }
  return best;
}

const order = [...songs.keys(), 0];
for (const naive of [false, true]) {
  const built = chain(order, naive);
  if (!built) {
    console.log(`joins: no frame where the bit reservoir allows a join, within the pre- and post-roll`);
    break;
  }
  const spliced = decode(Buffer.concat(built.stream.pieces.flatMap((p) => pieceBytes(p))));
  const continuous = decode(encodeWhole(built.reference));
  const delay = codecDelay();
  const e1 = windowErrors(spliced.pcm, built.reference, delay);
  const e0 = windowErrors(continuous.pcm, built.reference, delay);
  const excess = e1.map((v, i) => v - e0[i]!);
  const near = (w: number): boolean => built.stream.joins.some((j) => Math.abs(w - j) <= 3);
  const atJoins = [...excess].filter((_, w) => near(w));
  const elsewhere = [...excess].filter((_, w) => !near(w));
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const worstJoinError = Math.max(...[...e1].filter((_, w) => near(w)));
  console.log(
    `joins${naive ? ' (control: no reservoir patch)' : ''}: ${built.stream.joins.length} joins, decoder errors ${spliced.errors.length}` +
      `${spliced.errors[0] ? ` (${spliced.errors[0]})` : ''}; error against the source, spliced minus one continuous encode, per 26 ms window: ` +
      `at the joins (±3 frames) worst ${Math.max(...atJoins).toFixed(1)} dB, median ${median(atJoins).toFixed(1)}; elsewhere worst ${Math.max(...elsewhere).toFixed(1)}, median ${median(elsewhere).toFixed(1)}; ` +
      `worst window error at a join ${worstJoinError.toFixed(1)} dBFS (continuous encode's median ${median([...e0]).toFixed(1)}); decoder delay ${delay}`,
  );
}

// 3. On air.
const onAir = full.map((p) => ends(p, crossfade));
full.length = 0;
// What the study held for the joins' check is garbage now; collected before PSS is read, when run with --expose-gc.
(globalThis as { gc?: () => void }).gc?.();
interface Channel {
  song: number;
  queue: Piece[];
  sent: number;
  listeners: Set<http.ServerResponse>;
  recent: Buffer[];
}

/** Queue song `k`'s body from `from` and the crossfade into the next: once per song, as a station would on entering it. */
function enter(ch: Channel, from: number): void {
  const a = onAir[ch.song]!;
  const next = (ch.song + 1) % onAir.length;
  const j: Join | null = join(a, onAir[next]!, crossfade, ceiling);
  if (!j) throw new Error(`no join from song ${ch.song} to ${next}`);
  ch.queue.push({ mp3: a.mp3, frames: a.frames, from, to: j.aTo, patches: j.aPatches }, j.x);
  ch.song = next;
  ch.queue.push({ mp3: onAir[next]!.mp3, frames: onAir[next]!.frames, from: j.bFrom, to: j.bFrom, patches: new Map() });
}

/** `count` frames off the channel's queue, as byte runs; entering the next song when its piece starts. */
function take(ch: Channel, count: number): Buffer[] {
  const out: Buffer[] = [];
  while (count > 0) {
    const p = ch.queue[0]!;
    if (p.from === p.to) {
      // A song's own piece whose end is not known yet: enter it.
      ch.queue.shift();
      enter(ch, p.from);
      continue;
    }
    const n = Math.min(count, p.to - p.from);
    out.push(...pieceBytes(p, p.from, p.from + n));
    p.from += n;
    count -= n;
    if (p.from === p.to) ch.queue.shift();
  }
  return out;
}

const all: Channel[] = [];
for (let c = 0; c < channels; c++) {
  // Spread over the songs and through them, as channels of a station are at any moment.
  const song = c % onAir.length;
  const ch: Channel = { song, queue: [], sent: 0, listeners: new Set(), recent: [] };
  const startFrame = Math.floor(((c / channels) * (onAir[song]!.samples - crossfade * 44100)) / F);
  enter(ch, startFrame);
  all.push(ch);
}

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'audio/mpeg' });
  const ch = all[0]!;
  for (const b of ch.recent) res.write(b);
  ch.listeners.add(res);
  req.on('close', () => ch.listeners.delete(res));
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as AddressInfo).port;
const recorded: Buffer[] = [];
let recordedBytes = 0;
http.get(`http://127.0.0.1:${port}/`, (res) =>
  res.on('data', (d: Buffer) => {
    recorded.push(d);
    recordedBytes += d.length;
  }),
);

const TICK_MS = 250;
const LEAD_FRAMES = 10;
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const main0 = mainThreadCpuSeconds(process.pid);
let ticks = 0;
await new Promise<void>((done) => {
  const tick = (): void => {
    const elapsed = performance.now() - t0;
    const due = Math.floor((elapsed / 1000) * (44100 / F)) + LEAD_FRAMES;
    for (const ch of all) {
      const runs = take(ch, due - ch.sent);
      ch.sent = due;
      ch.recent.push(...runs);
      if (ch.recent.length > 64) ch.recent.splice(0, ch.recent.length - 64);
      for (const res of ch.listeners) for (const r of runs) res.write(r);
    }
    ticks++;
    if (elapsed >= seconds * 1000) return done();
    setTimeout(tick, TICK_MS - ((performance.now() - t0) % TICK_MS));
  };
  tick();
});
const wall = (performance.now() - t0) / 1000;
const used = process.cpuUsage(cpu0);
const cpu = ((used.user + used.system) / 1e6 / wall) * 100;
const mainCpu = ((mainThreadCpuSeconds(process.pid) - main0) / wall) * 100;
const pss = Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))?.[1] ?? 0) / 1024;
server.closeAllConnections();
server.close();
const heard = decode(Buffer.concat(recorded));
console.log(
  `on air: ${channels} channels, ${wall.toFixed(1)} s, ${ticks} ticks: ${cpu.toFixed(2)} % of a core (${(cpu / channels).toFixed(3)} per channel), main thread ${mainCpu.toFixed(2)} %, PSS ${pss.toFixed(0)} MB; ` +
    `listener of channel 0: ${recordedBytes} bytes, ${((heard.pcm.length / 2 / 44100 / wall) * 100).toFixed(1)} % of real time decoded, decoder errors ${heard.errors.length}`,
);
