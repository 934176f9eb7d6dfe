/**
 * Soak: a station with several channels of short songs (so hundreds of seams)
 * for a while, a listener recording every channel, and a report: seam
 * silence, disconnects, pacing, memory slope, open files. Every channel
 * also has an AAC and an Opus rendition, so the encoders loaded into the
 * station's process are in the memory slope.
 *
 *   npm run soak -- --minutes 10 --channels 5      (npm run soak -- --minutes 60 for an hour)
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { listen, type Listener } from '../test/helpers/listener.js';
import { makeTone } from '../test/helpers/media.js';
import { freePort, until } from '../test/helpers/ports.js';
import { tempDir } from '../test/helpers/station.js';
import { treeUsage } from './lib/proc.js';
import { STATION_ENV, STATION_NODE_ARGS } from './lib/station-command.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, channels: { type: 'string', default: '5' } } });
const minutes = Number(values.minutes);
const channels = Number(values.channels);
const root = path.resolve(import.meta.dirname, '..');
execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });

// Short steady tones in mixed formats: any silence a listener hears is the station's.
const media = tempDir('soak-media');
const songs = [
  { file: 'a.m4a', freq: 330, seconds: 1.5, args: ['-c:a', 'aac'] },
  { file: 'b.mp3', freq: 440, seconds: 2, args: ['-c:a', 'libmp3lame'] },
  { file: 'c.ogg', freq: 550, seconds: 1, args: ['-c:a', 'libvorbis'] },
  { file: 'd.flac', freq: 660, seconds: 2.5, args: ['-c:a', 'flac'] },
  { file: 'e.m4a', freq: 770, seconds: 1.2, sampleRate: 48000, channels: 1, args: ['-c:a', 'aac'] },
  { file: 'f.wav', freq: 880, seconds: 0.8, args: ['-c:a', 'pcm_s16le'] },
];
for (const s of songs) await makeTone({ ...s, file: path.join(media, s.file) });
const playlists = tempDir('soak-playlists');
for (let i = 0; i < channels; i++) {
  writeFileSync(
    path.join(playlists, `soak${i}.json`),
    JSON.stringify({
      name: `Soak ${i}`,
      mount: `/soak${i}.mp3`,
      order: 'shuffle',
      // The in-process AAC and Opus encoders run all along: native memory they leaked (koffi once did) shows in the slope.
      renditions: [
        { codec: 'aac', bitrate: 64, mount: `/soak${i}.aac` },
        { codec: 'opus', bitrate: 64, mount: `/soak${i}.opus` },
      ],
      tracks: songs.map((s) => ({ source: 'file', path: path.join(media, s.file) })),
    }),
  );
}
const port = await freePort();
const station = spawn(process.execPath, [...STATION_NODE_ARGS], {
  cwd: root,
  env: {
    ...process.env,
    ...STATION_ENV,
    PLAYLISTS_DIR: playlists,
    MEDIA_DIRS: media,
    HTTP_PORT: String(port),
    HTTP_HOST: '127.0.0.1',
    CACHE_DIR: tempDir('soak-cache'),
    LOG_LEVEL: 'warn',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;
await until(
  'station up',
  async () =>
    (await fetch(`${base}/health`).then(
      (r) => r.ok,
      () => false,
    )) || undefined,
  30_000,
);

/** Streams a listener's MP3 through ffmpeg and measures silent runs (under -45 dBFS) as they come. */
class SilenceMeter {
  readonly decoder: ChildProcess;
  started = false;
  run = 0;
  runs = 0;
  longestMs = 0;
  totalMs = 0;
  samples = 0;
  private readonly threshold = Math.round(32768 * 10 ** (-45 / 20));
  constructor() {
    this.decoder = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'mp3', '-i', 'pipe:0', '-ac', '1', '-ar', '44100', '-f', 's16le', 'pipe:1']);
    let carry: Buffer = Buffer.alloc(0);
    this.decoder.stdout!.on('data', (d: Buffer) => {
      const buf = carry.length ? Buffer.concat([carry, d]) : d;
      const n = Math.floor(buf.length / 2);
      for (let i = 0; i < n; i++) this.sample(buf.readInt16LE(i * 2));
      carry = buf.subarray(n * 2);
    });
    this.decoder.stdin!.on('error', () => undefined);
  }
  private sample(v: number): void {
    this.samples++;
    const quiet = Math.abs(v) < this.threshold;
    if (!this.started) {
      this.started = !quiet; // the start-up padding before the first song is not a seam
      return;
    }
    if (quiet) this.run++;
    else if (this.run > 0) {
      const ms = (this.run / 44100) * 1000;
      if (ms >= 3) {
        this.runs++;
        this.totalMs += ms;
        this.longestMs = Math.max(this.longestMs, ms);
      }
      this.run = 0;
    }
  }
}

const listeners: { l: Listener; meter: SilenceMeter; disconnected: boolean }[] = [];
let stopping = false;
for (let i = 0; i < channels; i++) {
  const meter = new SilenceMeter();
  // Audio goes straight to the meter's decoder; nothing is kept in memory.
  const l = await listen(`${base}/soak${i}.mp3`, { icy: false, keep: false, onAudio: (b) => meter.decoder.stdin!.write(Buffer.from(b)) });
  const entry = { l, meter, disconnected: false };
  const watch = setInterval(() => {
    if (l.closed) {
      entry.disconnected = !stopping;
      clearInterval(watch);
    }
  }, 1000);
  listeners.push(entry);
}

const fds = (): number => readdirSync(`/proc/${station.pid}/fd`).length;
const samples: { t: number; rss: number; pss: number; fds: number; worstPacingMs: number }[] = [];
const t0 = Date.now();
const sample = async (): Promise<void> => {
  const u = treeUsage(station.pid!);
  const nodeOnly = Number(/VmRSS:\s+(\d+)/.exec(execFileSync('cat', [`/proc/${station.pid}/status`]).toString())?.[1]) * 1024;
  const health = (await (await fetch(`${base}/health`)).json()) as { channels: { pacingErrorMs: number }[] };
  samples.push({
    t: (Date.now() - t0) / 1000,
    rss: nodeOnly,
    pss: u.pssBytes,
    fds: fds(),
    worstPacingMs: Math.max(...health.channels.map((c) => Math.abs(c.pacingErrorMs))),
  });
};
await sample();
while (Date.now() - t0 < minutes * 60_000) {
  await new Promise((r) => setTimeout(r, 10_000));
  await sample();
}
const metrics = await (await fetch(`${base}/metrics`)).text();
const played = [...metrics.matchAll(/^scast_songs_played_total\{channel="[^"]+"\} (\d+)/gm)].reduce((s, m) => s + Number(m[1]), 0);
stopping = true;
for (const e of listeners) e.l.close();
await new Promise((r) => setTimeout(r, 1500));
station.kill('SIGTERM');

const first = samples[1] ?? samples[0]!; // after warm-up
const last = samples[samples.length - 1]!;
const hours = (last.t - first.t) / 3600;
const report = {
  minutes: Number(((Date.now() - t0) / 60_000).toFixed(1)),
  channels,
  seams: played - channels,
  silentRunsOver3ms: listeners.reduce((s, e) => s + e.meter.runs, 0),
  totalSeamSilenceMs: Number(listeners.reduce((s, e) => s + e.meter.totalMs, 0).toFixed(1)),
  longestSilenceMs: Number(Math.max(...listeners.map((e) => e.meter.longestMs)).toFixed(1)),
  listenerDisconnects: listeners.filter((e) => e.disconnected).length,
  audioReceivedVsWallPercent: Number(((listeners.reduce((s, e) => s + e.meter.samples, 0) / channels / 44100 / ((Date.now() - t0) / 1000)) * 100).toFixed(2)),
  worstPacingErrorMs: Math.max(...samples.map((s) => s.worstPacingMs)),
  nodeRssMB: {
    start: Number((first.rss / 1e6).toFixed(1)),
    end: Number((last.rss / 1e6).toFixed(1)),
    slopeMBPerHour: Number(((last.rss - first.rss) / 1e6 / hours).toFixed(2)),
  },
  treePssMB: { start: Number((first.pss / 1e6).toFixed(1)), end: Number((last.pss / 1e6).toFixed(1)) },
  openFds: { start: first.fds, end: last.fds, max: Math.max(...samples.map((s) => s.fds)) },
};
console.log(JSON.stringify(report));
console.log(
  `soak ${report.minutes} min, ${channels} channels, ${report.seams} seams: ${report.silentRunsOver3ms} silent runs >= 3 ms (longest ${report.longestSilenceMs} ms), ` +
    `${report.listenerDisconnects} disconnects, worst pacing ${report.worstPacingErrorMs} ms, node RSS ${report.nodeRssMB.start} -> ${report.nodeRssMB.end} MB ` +
    `(${report.nodeRssMB.slopeMBPerHour} MB/h), fds ${report.openFds.start} -> ${report.openFds.end}`,
);
process.exit(0);
