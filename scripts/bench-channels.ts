/**
 * CPU and memory of the streamer with 1, 10, ... channels of the demo
 * playlist (or of `npm run bench`'s tones or music-like songs), measured on the whole process tree (node + its ffmpeg children),
 * plus each channel's pacing error. Every listener-facing figure comes from a
 * real listener of the built-in output.
 *
 *   npm run bench:channels -- --channels 1,10 --seconds 30 [--loudness on|off|both] [--crossfade 3] [--songs demo|tones|music] [--timeline] [--profile DIR]
 *
 * Every run shares one cache (analyses, and each song's stored MP3 frames,
 * kept as channels close): a count given twice (`--channels 10,10`)
 * measures first plays, then the same channels' songs played again.
 *
 * `--timeline` prints, each second, the stand-in and no-song silence so far
 * and the CPU since the start (to stderr), to tell a steady shortfall from
 * bursts (with 100 channels of 4-20 s songs, they came with song changes).
 *
 * `--profile DIR` writes each measured station's V8 CPU profile there
 * (`--cpu-prof`; open it in Chrome's DevTools): where the main thread's
 * share goes.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { listen } from '../test/helpers/listener.js';
import { freePort, until } from '../test/helpers/ports.js';
import { tempDir } from '../test/helpers/station.js';
import { makeBenchSongs, songKind } from './lib/bench-songs.js';
import { mainThreadCpuSeconds, treeUsage } from './lib/proc.js';
import { STATION_ENV, STATION_NODE_ARGS } from './lib/station-command.js';

const { values } = parseArgs({
  options: {
    channels: { type: 'string', default: '1,10' },
    seconds: { type: 'string', default: '30' },
    loudness: { type: 'string', default: 'on' },
    crossfade: { type: 'string', default: '0' },
    /** demo: the demo playlist's four songs of 4-20 s; tones / music: `npm run bench`'s (scripts/lib/bench-songs.ts). */
    songs: { type: 'string', default: 'demo' },
    timeline: { type: 'boolean', default: false },
    profile: { type: 'string' },
  },
});
const crossfade = Number(values.crossfade);
const counts = values.channels.split(',').map(Number);
const seconds = Number(values.seconds);
const root = path.resolve(import.meta.dirname, '..');
execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
const demo = path.join(root, 'playlists');
const songFiles =
  values.songs === 'demo'
    ? ['sunrise-arpeggio.m4a', 'minor-waltz.mp3', 'chime.ogg', 'morning-light.flac'].map((f) => path.join(demo, 'media', f))
    : (await makeBenchSongs(songKind(values.songs), tempDir('bench-media'))).map((s) => s.file);
const mediaDirs = [...new Set(songFiles.map((f) => path.dirname(f)))].join(path.delimiter);

interface Row {
  channels: number;
  cpuPercentOfCore: number;
  cpuPercentPerChannel: number;
  /** The station's main thread alone: every channel's mix and in-process encoders run on it, so it is the first limit. */
  mainThreadPercent: number;
  /** Summed over channels, during the window: silent frames the clock sent because an encoder was late (the station not keeping up), and silence fed because no song was ready. */
  standInSeconds: number;
  silenceSeconds: number;
  rssMB: number;
  pssMB: number;
  worstPacingErrorMs: number;
  listenerRatePercent: number;
  processes: number;
  /** Of the MP3 frames sent in the window, the share sent as stored from an earlier play (REUSE_FRAMES). */
  reusedPercent: number;
  loudness: boolean;
  crossfade: number;
}

/** Stand-in and no-song silence seconds so far, and MP3 frames sent as stored or encoded, summed over every channel (from /metrics). */
async function silenceTotals(base: string): Promise<{ standIn: number; silence: number; reused: number; encoded: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const sum = (name: string): number => [...text.matchAll(new RegExp(`^${name}\\{[^}]*\\} ([0-9.e+-]+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
  return {
    standIn: sum('scast_standin_seconds_total'),
    silence: sum('scast_silence_seconds_total'),
    reused: sum('scast_mp3_frames_reused_total'),
    encoded: sum('scast_mp3_frames_encoded_total'),
  };
}

/** One cache for every run: each song is analysed once ever, as in a real station, and the steady state is what is measured. */
const cacheDir = tempDir('bench-cache');

async function startStation(playlists: string, n: number, profile?: string): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []), ...STATION_NODE_ARGS], {
    cwd: root,
    env: {
      ...process.env,
      ...STATION_ENV,
      PLAYLISTS_DIR: playlists,
      MEDIA_DIRS: mediaDirs,
      HTTP_PORT: String(port),
      HTTP_HOST: '127.0.0.1',
      CACHE_DIR: cacheDir,
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
    // Channels start one after another before the HTTP side opens: more of them, longer.
    20_000 + 1000 * n,
  );
  return { child, base };
}

function analysed(): boolean | undefined {
  const lines = readFileSync(path.join(cacheDir, 'analysis.jsonl'), { encoding: 'utf8', flag: 'a+' }).split('\n').filter(Boolean).length;
  return lines >= songFiles.length ? true : undefined;
}

/** A channel per song, so each song (3.5-minute ones included) is analysed before anything is measured. */
async function analyseSongs(): Promise<void> {
  const dir = tempDir('bench-warm');
  for (const [i, f] of songFiles.entries()) {
    writeFileSync(path.join(dir, `warm${i}.json`), JSON.stringify({ name: `Warm ${i}`, mount: `/warm${i}.mp3`, tracks: [{ source: 'file', path: f }] }));
  }
  const { child } = await startStation(dir, songFiles.length);
  await until('every song analysed', analysed, 120_000, 200);
  child.kill('SIGTERM');
  await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
}

async function measure(n: number, loudness: boolean): Promise<Row> {
  const dir = tempDir(`bench-${n}`);
  for (let i = 0; i < n; i++) {
    writeFileSync(
      path.join(dir, `c${i}.json`),
      JSON.stringify({
        name: `Bench ${i}`,
        mount: `/c${i}.mp3`,
        order: 'shuffle',
        ...(loudness ? {} : { loudness: false }),
        crossfade,
        tracks: songFiles.map((f) => ({ source: 'file', path: f })),
      }),
    );
  }
  const { child, base } = await startStation(dir, n, values.profile);
  const listener = await listen(`${base}/c0.mp3`, { icy: false });
  await new Promise((r) => setTimeout(r, 5000)); // warm up: first songs prepared, burst delivered
  const s0 = await silenceTotals(base);
  const u0 = treeUsage(child.pid!);
  const m0 = mainThreadCpuSeconds(child.pid!);
  const t0 = performance.now();
  const b0 = listener.bytes;
  let peakRss = 0;
  let peakPss = 0;
  let worst = 0;
  let processes = 0;
  while (performance.now() - t0 < seconds * 1000) {
    await new Promise((r) => setTimeout(r, 1000));
    const u = treeUsage(child.pid!);
    peakRss = Math.max(peakRss, u.rssBytes);
    peakPss = Math.max(peakPss, u.pssBytes);
    processes = Math.max(processes, u.processes);
    const health = (await (await fetch(`${base}/health`)).json()) as { channels: { pacingErrorMs: number }[] };
    for (const c of health.channels) worst = Math.max(worst, Math.abs(c.pacingErrorMs));
    if (values.timeline) {
      const s = await silenceTotals(base);
      const t = (performance.now() - t0) / 1000;
      const cpuNow = ((treeUsage(child.pid!).cpuSeconds - u0.cpuSeconds) / t) * 100;
      process.stderr.write(
        `${n} channels, ${t.toFixed(1)} s: stand-in ${(s.standIn - s0.standIn).toFixed(2)} s, no-song silence ${(s.silence - s0.silence).toFixed(2)} s, CPU ${cpuNow.toFixed(0)} %\n`,
      );
    }
  }
  const u1 = treeUsage(child.pid!);
  const m1 = mainThreadCpuSeconds(child.pid!);
  const s1 = await silenceTotals(base);
  const wall = (performance.now() - t0) / 1000;
  const received = (listener.bytes - b0) / 16000;
  listener.close();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const cpu = ((u1.cpuSeconds - u0.cpuSeconds) / wall) * 100;
  return {
    channels: n,
    cpuPercentOfCore: Number(cpu.toFixed(2)),
    cpuPercentPerChannel: Number((cpu / n).toFixed(2)),
    mainThreadPercent: Number((((m1 - m0) / wall) * 100).toFixed(2)),
    standInSeconds: Number((s1.standIn - s0.standIn).toFixed(2)),
    silenceSeconds: Number((s1.silence - s0.silence).toFixed(2)),
    rssMB: Number((peakRss / 1e6).toFixed(1)),
    pssMB: Number((peakPss / 1e6).toFixed(1)),
    worstPacingErrorMs: worst,
    listenerRatePercent: Number(((received / wall) * 100).toFixed(2)),
    processes,
    reusedPercent: Number(((100 * (s1.reused - s0.reused)) / Math.max(1, s1.reused - s0.reused + s1.encoded - s0.encoded)).toFixed(1)),
    loudness,
    crossfade,
  };
}

await analyseSongs();
const rows: Row[] = [];
const modes = values.loudness === 'both' ? [true, false] : [values.loudness !== 'off'];
// Alternating modes per count, so a drift of the machine does not favour one.
for (const n of counts) for (const mode of modes) rows.push(await measure(n, mode));
console.log(JSON.stringify(rows));
console.log(
  '| channels | loudness | crossfade s | CPU % of a core | CPU % per channel | main thread % of a core | peak RSS MB (sum) | peak PSS MB | worst pacing error ms | stand-in s (all channels) | no-song silence s | listener rate % | processes | frames sent as stored % |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.channels} | ${r.loudness ? 'on' : 'off'} | ${r.crossfade} | ${r.cpuPercentOfCore} | ${r.cpuPercentPerChannel} | ${r.mainThreadPercent} | ${r.rssMB} | ${r.pssMB} | ${r.worstPacingErrorMs} | ${r.standInSeconds} | ${r.silenceSeconds} | ${r.listenerRatePercent} | ${r.processes} | ${r.reusedPercent} |`,
  );
}
const first = rows.filter((r) => r.loudness === rows[0]!.loudness);
if (first.length > 1 && first[0]!.channels !== first[first.length - 1]!.channels) {
  const a = first[0]!;
  const b = first[first.length - 1]!;
  console.log(
    `memory per further channel: ${((b.pssMB - a.pssMB) / (b.channels - a.channels)).toFixed(1)} MB PSS, ${((b.rssMB - a.rssMB) / (b.channels - a.channels)).toFixed(1)} MB RSS`,
  );
}
