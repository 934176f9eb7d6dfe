/**
 * `npm run bench`: sCast side by side with Liquidsoap, ezstream and ffmpeg on
 * one real Icecast, the same playlist, the same listener measurement; then
 * sCast's scale (1 and 10 produced channels on the same songs) and the built-in output against Icecast
 * with 500 listeners. Writes Markdown, JSON and an SVG plot under results/.
 *
 *   npm run bench -- --seconds 70 --runs 3 [--settle 10] [--skip-scale] [--songs tones|music]
 *
 * `--songs tones` (default): five 15 s steady tones, so seams, silences and
 * title offsets can be measured to the millisecond (and per-song costs weigh
 * 14x what they do in real life). `--songs music`: five music-like songs of
 * 3.5 minutes (pink noise under a two-note chord with tremolo: broadband,
 * as costly to encode as music), for the steady-state CPU and memory a real
 * playlist gives; seams are not measured on them.
 *
 * Machines are noisy: the tools are measured in turn, --runs times, and the
 * table gives medians (CPU also its range), with ratios from the medians.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startIcecast, type IcecastHandle } from '../test/helpers/icecast.js';
import { listen } from '../test/helpers/listener.js';
import { decodeMp3, silentRuns, toneChanges, withoutExcursions } from '../test/helpers/media.js';
import { until } from '../test/helpers/ports.js';
import { tempDir } from '../test/helpers/station.js';
import { makeBenchSongs, songKind } from './lib/bench-songs.js';
import { treeUsage } from './lib/proc.js';
import { STATION_ENV, STATION_NODE_ARGS } from './lib/station-command.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '70' },
    settle: { type: 'string', default: '10' },
    runs: { type: 'string', default: '3' },
    'skip-scale': { type: 'boolean', default: false },
    /** Only the tools whose names contain one of these (comma-separated), e.g. `--only sCast,ffmpeg`. */
    only: { type: 'string' },
    songs: { type: 'string', default: 'tones' },
  },
});
const kind = songKind(values.songs);
const music = kind === 'music';
const seconds = Number(values.seconds);
/** Seconds after a mount goes live before its CPU is counted: start-up work (sCast loads its HTTP side after the handshake, Liquidsoap compiles its script) is in "CPU from spawn", not in the steady state. */
const settle = Number(values.settle);
const runs = Math.max(1, Number(values.runs));
const root = path.resolve(import.meta.dirname, '..');
execFileSync('bash', ['scripts/ensure-system-deps.sh', 'icecast2', 'ffmpeg', 'lame', 'liquidsoap', 'ezstream', 'gettext-base'], {
  cwd: root,
  stdio: 'inherit',
});
execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });

// The playlist (scripts/lib/bench-songs.ts): five 15 s tones or five 3.5-minute music-like songs.
const media = tempDir('bench-media');
const songs = await makeBenchSongs(kind, media);
for (const s of songs) {
  // ezstream sends files as they are: pre-transcode each to MP3 128k.
  execFileSync('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-i',
    s.file,
    '-c:a',
    'libmp3lame',
    '-b:a',
    '128k',
    '-ar',
    '44100',
    '-ac',
    '2',
    '-id3v2_version',
    '3',
    '-metadata',
    `title=${s.title}`,
    '-metadata',
    `artist=${s.artist}`,
    s.file.replace('.m4a', '.mp3'),
  ]);
}
const freqs = songs.map((s) => s.freq);

const ice = await startIcecast({ env: { ICECAST_MAX_SOURCES: '64', ICECAST_MAX_CLIENTS: '1200' } });
const pw = ice.sourcePassword;

interface Tool {
  name: string;
  mount: string;
  start(): ChildProcess;
}

/**
 * One cache for every sCast run, its analyses made beforehand: each song is
 * analysed once ever (kept in CACHE_DIR/analysis.jsonl), so the steady state
 * is what is compared; the one-off analysis cost is reported apart.
 */
const scastCache = tempDir('bench-cache');

function startScast(dir: string, extra: Record<string, string> = {}): ChildProcess {
  // Every run plays its songs for the first time, as Liquidsoap's do: no frames stored by an earlier run
  // (the analyses stay). Repeat plays are measured by bench:channels (a count given twice).
  rmSync(path.join(scastCache, 'frames'), { recursive: true, force: true });
  return spawn(process.execPath, [...STATION_NODE_ARGS], {
    cwd: root,
    env: {
      ...process.env,
      ...STATION_ENV,
      PLAYLISTS_DIR: dir,
      MEDIA_DIRS: media,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      CACHE_DIR: scastCache,
      LOG_LEVEL: 'warn',
      ICECAST_URL: ice.sourceUrl,
      ICECAST_ADMIN_USER: 'admin',
      ICECAST_ADMIN_PASSWORD: ice.adminPassword,
      BUILTIN_OUTPUT: 'false',
      ...extra,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** Liquidsoap playing the playlist to `mount`, with `process` lines applied to its source `s`. */
function liquidsoap(name: string, mount: string, process: string[]): Tool {
  return {
    name,
    mount,
    start() {
      const dir = tempDir('bench-liq');
      writeFileSync(path.join(dir, 'list.m3u'), songs.map((s) => s.file).join('\n') + '\n');
      writeFileSync(
        path.join(dir, 'radio.liq'),
        [
          'settings.init.allow_root.set(true)',
          'settings.log.stdout.set(false)',
          'settings.log.file.set(false)',
          `s = playlist(mode="normal", reload_mode="never", "${path.join(dir, 'list.m3u')}")`,
          ...process,
          's = mksafe(s)',
          // LAME quality 3, as sCast and ffmpeg use (Liquidsoap's default is 2, ~1 % dearer on music).
          `output.icecast(%mp3(bitrate=128, samplerate=44100, stereo=true, internal_quality=3), host="127.0.0.1", port=${ice.port}, password="${pw}", mount="${mount}", name="Liquidsoap", s)`,
        ].join('\n'),
      );
      return spawn('liquidsoap', [path.join(dir, 'radio.liq')], { stdio: ['ignore', 'ignore', 'ignore'] });
    },
  };
}

/** sCast playing the bench playlist to `mount`, with `fields` added to the playlist and `env` to its environment. */
function scast(name: string, mount: string, fields: Record<string, unknown> = {}, env: Record<string, string> = {}): Tool {
  return {
    name,
    mount,
    start() {
      const id = mount.slice(1, -'.mp3'.length);
      const dir = tempDir(`bench-${id}`);
      writeFileSync(
        path.join(dir, `${id}.json`),
        JSON.stringify({ name: 'sCast', mount, ...fields, tracks: songs.map((s) => ({ source: 'file', path: s.file })) }),
      );
      return startScast(dir, env);
    },
  };
}

/** The station as a producer runs it: every song normalized, 3 s crossfades. */
const PRODUCED = { crossfade: 3, loudness: { target: -16 } };

const allTools: Tool[] = [
  scast('sCast', '/scast.mp3'),
  // The same, its encoder forced to the lame program (auto takes libmp3lame in the station's process).
  scast('sCast, lame process', '/scast-lame.mp3', {}, { MP3_ENCODER: 'lame' }),
  liquidsoap('Liquidsoap', '/liquidsoap.mp3', []),
  scast('sCast: loudness + 3 s crossfade', '/scast-xf.mp3', PRODUCED),
  scast('sCast: loudness + 3 s crossfade, lame process', '/scast-xf-lame.mp3', PRODUCED, { MP3_ENCODER: 'lame' }),
  // What recording each song's frames for later plays costs a first play (REUSE_FRAMES, on by default).
  scast('sCast: loudness + 3 s crossfade, frames not kept', '/scast-xf-nokeep.mp3', PRODUCED, { REUSE_FRAMES: 'false' }),
  // Renditions: what one more format costs on top of the produced channel (its listener is on the MP3 mount).
  scast('sCast: loudness + 3 s crossfade + Opus 64', '/scast-opus.mp3', {
    ...PRODUCED,
    renditions: [{ codec: 'opus', bitrate: 64, mount: '/scast-opus.opus' }],
  }),
  scast('sCast: loudness + 3 s crossfade + AAC 64', '/scast-aac.mp3', { ...PRODUCED, renditions: [{ codec: 'aac', bitrate: 64, mount: '/scast-aac.aac' }] }),
  // Debian's Liquidsoap (2.1): its closest equivalent, normalize() then crossfade() with 3 s fades.
  liquidsoap('Liquidsoap: normalize + 3 s crossfade', '/liquidsoap-xf.mp3', ['s = normalize(s)', 's = crossfade(duration=3., fade_in=3., fade_out=3., s)']),
  {
    name: 'ezstream',
    mount: '/ezstream.mp3',
    start() {
      const dir = tempDir('bench-ez');
      writeFileSync(path.join(dir, 'list.txt'), songs.map((s) => s.file.replace('.m4a', '.mp3')).join('\n') + '\n');
      const xml = path.join(dir, 'ezstream.xml');
      writeFileSync(
        xml,
        `<?xml version="1.0" encoding="UTF-8"?>
<ezstream>
  <servers><server><name>default</name><protocol>HTTP</protocol><hostname>127.0.0.1</hostname><port>${ice.port}</port><user>source</user><password>${pw}</password><reconnect_attempts>0</reconnect_attempts></server></servers>
  <streams><stream><mountpoint>/ezstream.mp3</mountpoint><format>MP3</format><stream_name>ezstream</stream_name></stream></streams>
  <intakes><intake><type>playlist</type><filename>${path.join(dir, 'list.txt')}</filename><stream_once>No</stream_once></intake></intakes>
</ezstream>
`,
      );
      chmodSync(xml, 0o600);
      return spawn('ezstream', ['-c', xml], { stdio: ['ignore', 'ignore', 'ignore'] });
    },
  },
  {
    name: 'ffmpeg',
    mount: '/ffmpeg.mp3',
    start() {
      const dir = tempDir('bench-ff');
      const list = path.join(dir, 'list.txt');
      writeFileSync(list, songs.map((s) => `file '${s.file}'`).join('\n') + '\n');
      return spawn(
        'ffmpeg',
        [
          '-hide_banner',
          '-loglevel',
          'error',
          '-re',
          '-f',
          'concat',
          '-safe',
          '0',
          '-i',
          list,
          '-c:a',
          'libmp3lame',
          '-b:a',
          '128k',
          '-ar',
          '44100',
          '-ac',
          '2',
          '-content_type',
          'audio/mpeg',
          '-f',
          'mp3',
          `icecast://source:${pw}@127.0.0.1:${ice.port}/ffmpeg.mp3`,
        ],
        { stdio: ['ignore', 'ignore', 'ignore'] },
      );
    },
  },
  {
    // Not a product: the least a node process feeding `lame` can cost (see scripts/lib/floor-source.mjs).
    name: 'floor: node + lame, nothing else',
    mount: '/floor.mp3',
    start() {
      return spawn(process.execPath, [path.join(root, 'scripts/lib/floor-source.mjs'), '127.0.0.1', String(ice.port), '/floor.mp3', pw], {
        stdio: ['ignore', 'ignore', 'ignore'],
      });
    },
  },
  {
    // Not a product: the least the design sCast ships can cost, encoding this run's kind of audio (scripts/lib/floor-lib-source.mjs).
    name: 'floor: node + libmp3lame in process, nothing else',
    mount: '/floor-lib.mp3',
    start() {
      return spawn(
        process.execPath,
        [path.join(root, 'scripts/lib/floor-lib-source.mjs'), '127.0.0.1', String(ice.port), '/floor-lib.mp3', pw, songs[0]!.file],
        {
          stdio: ['ignore', 'ignore', 'ignore'],
        },
      );
    },
  },
];

const onlyNames =
  values.only
    ?.split(',')
    .map((x) => x.trim().toLowerCase())
    .filter(Boolean) ?? [];
const tools = onlyNames.length ? allTools.filter((t) => onlyNames.some((n) => t.name.toLowerCase().includes(n))) : allTools;

async function mountListed(h: IcecastHandle, mount: string): Promise<boolean> {
  return (await h.status().catch(() => [])).some((m) => m.listenurl.endsWith(mount));
}

interface Row {
  tool: string;
  liveSeconds: number | null;
  cpuSeconds: number;
  cpuPercent: number;
  /** From spawn to the end of the recording, start-up included (what `time` would show). */
  cpuPercentWithStart: number;
  peakRssMB: number;
  /** Proportional set size: shared pages (libraries shared by several processes) counted once. */
  peakPssMB: number;
  seamSilencesMs: number[];
  receivedPercent: number;
  titleOffsetsS: number[];
  backOnAirSeconds: number | null;
}

async function measure(tool: Tool): Promise<Row> {
  const t0 = performance.now();
  const proc = tool.start();
  const live = await until(`${tool.name} live`, async () => ((await mountListed(ice, tool.mount)) ? performance.now() : undefined), 20_000, 10).catch(
    () => null,
  );
  const listener = await listen(`${ice.url}${tool.mount}`);
  await new Promise((r) => setTimeout(r, settle * 1000));
  const u0 = treeUsage(proc.pid!);
  const w0 = performance.now();
  let peak = 0;
  let peakPss = 0;
  let b5 = 0;
  let w5 = 0;
  while (performance.now() - w0 < seconds * 1000) {
    await new Promise((r) => setTimeout(r, 1000));
    const u = treeUsage(proc.pid!);
    peak = Math.max(peak, u.rssBytes);
    peakPss = Math.max(peakPss, u.pssBytes);
    if (w5 === 0 && performance.now() - w0 >= 5000) {
      w5 = performance.now();
      b5 = listener.bytes;
    }
  }
  const u1 = treeUsage(proc.pid!);
  const wall = (performance.now() - w0) / 1000;
  const life = (performance.now() - t0) / 1000;
  const received = (listener.bytes - b5) / 16000 / ((performance.now() - w5) / 1000);
  listener.close();
  const pcm = await decodeMp3(listener.audio());
  // A 3 s crossfade sounds both tones: flips between them inside it are not seams (they made 52 "seams" of 18, at -4.6 s from their titles).
  const changes = withoutExcursions(toneChanges(pcm, freqs, 44100, 10), 1.5);
  // A seam's silence: the silent run (>= 3 ms) nearest each audible change, if within 0.5 s.
  const runs = silentRuns(pcm);
  const seamSilences = changes.map((c) => runs.find((r) => Math.abs(r.startSec + r.ms / 1000 - c.at) < 0.5)?.ms ?? 0);
  const offsets = changes.flatMap((c) => {
    const song = songs.find((s) => s.freq === c.to)!;
    const t = listener.titles.find((x) => x.title.includes(song.title) && Math.abs(x.audioOffset / 16000 - c.at) < 5);
    return t ? [Number((t.audioOffset / 16000 - c.at).toFixed(2))] : [];
  });
  // Icecast restarts: how long until this tool is back on air?
  await ice.kill();
  await new Promise((r) => setTimeout(r, 2000));
  const acceptedAt = await ice.start();
  const back = await until(`${tool.name} back`, async () => ((await mountListed(ice, tool.mount)) ? Date.now() : undefined), 40_000, 20).catch(() => null);
  proc.kill('SIGKILL');
  await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.once('exit', r)));
  return {
    tool: tool.name,
    liveSeconds: live === null ? null : Number(((live - t0) / 1000).toFixed(2)),
    cpuSeconds: Number((u1.cpuSeconds - u0.cpuSeconds).toFixed(2)),
    cpuPercent: Number((((u1.cpuSeconds - u0.cpuSeconds) / wall) * 100).toFixed(2)),
    cpuPercentWithStart: Number(((u1.cpuSeconds / life) * 100).toFixed(2)),
    peakRssMB: Number((peak / 1e6).toFixed(1)),
    peakPssMB: Number((peakPss / 1e6).toFixed(1)),
    seamSilencesMs: seamSilences.map((m) => Number(m.toFixed(1))),
    receivedPercent: Number((received * 100).toFixed(2)),
    titleOffsetsS: offsets,
    backOnAirSeconds: back === null ? null : Number(((back - acceptedAt) / 1000).toFixed(2)),
  };
}

// Warm the analyses: one station over the playlist until every song is measured; the CPU it took is the analysis cost.
// A channel per song, so each is analysed as its channel starts, 3.5-minute songs included.
const warmDir = tempDir('bench-warm');
for (const [i, s] of songs.entries()) {
  writeFileSync(path.join(warmDir, `warm${i}.json`), JSON.stringify({ name: `Warm ${i}`, mount: `/warm${i}.mp3`, tracks: [{ source: 'file', path: s.file }] }));
}
const warm = startScast(warmDir);
await until(
  'every song analysed',
  () => {
    const lines = readFileSync(path.join(scastCache, 'analysis.jsonl'), { encoding: 'utf8', flag: 'a+' }).split('\n').filter(Boolean).length;
    return lines >= songs.length ? true : undefined;
  },
  60_000,
  100,
);
warm.kill('SIGKILL');
await new Promise((r) => (warm.exitCode !== null ? r(null) : warm.once('exit', r)));
const analysisCpu = analysisCost(songs.map((s) => s.file));

const all: Row[] = [];
for (let run = 1; run <= runs; run++) {
  for (const t of tools) {
    process.stderr.write(`run ${run}/${runs}: measuring ${t.name} for ${seconds} s ...\n`);
    all.push(await measure(t));
  }
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
/** A median where null (never) counts as worse than any number. */
const medianOrNull = (xs: (number | null)[]): number | null => {
  const m = median(xs.map((x) => x ?? Infinity));
  return Number.isFinite(m) ? Number(m.toFixed(2)) : null;
};
interface Summary extends Row {
  cpuRange: [number, number];
}
const rows: Summary[] = tools.map((t) => {
  const mine = all.filter((r) => r.tool === t.name);
  const med = (f: (r: Row) => number) => Number(median(mine.map(f)).toFixed(2));
  return {
    tool: t.name,
    liveSeconds: medianOrNull(mine.map((r) => r.liveSeconds)),
    cpuSeconds: med((r) => r.cpuSeconds),
    cpuPercent: med((r) => r.cpuPercent),
    cpuRange: [Math.min(...mine.map((r) => r.cpuPercent)), Math.max(...mine.map((r) => r.cpuPercent))],
    cpuPercentWithStart: med((r) => r.cpuPercentWithStart),
    peakRssMB: med((r) => r.peakRssMB),
    peakPssMB: med((r) => r.peakPssMB),
    seamSilencesMs: mine.flatMap((r) => r.seamSilencesMs),
    receivedPercent: med((r) => r.receivedPercent),
    titleOffsetsS: mine.flatMap((r) => r.titleOffsetsS),
    backOnAirSeconds: medianOrNull(mine.map((r) => r.backOnAirSeconds)),
  };
});

// Scale: 1 and 10 produced channels in one station on the same songs (the channel benchmark, same machine, same run).
interface ScaleRow {
  channels: number;
  cpuPercentPerChannel: number;
  mainThreadPercent: number;
  standInSeconds: number;
  pssMB: number;
  rssMB: number;
  worstPacingErrorMs: number;
  listenerRatePercent: number;
}
let scale: ScaleRow[] = [];
if (!values['skip-scale']) {
  const args = ['--channels', '1,10', '--seconds', String(Math.max(30, seconds)), '--loudness', 'on', '--crossfade', '3', '--songs', kind];
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/bench-channels.ts', ...args], { cwd: root, encoding: 'utf8' });
  scale = JSON.parse(out.split('\n').find((l) => l.startsWith('['))!) as ScaleRow[];
}

// 500 listeners: the built-in output against Icecast serving the same stream.
async function crowd(url: string, n: number, ms: number, pid: () => number | undefined): Promise<{ cpuPercent: number; mbDelivered: number; dropped: number }> {
  const u = new URL(url);
  let bytes = 0;
  let dropped = 0;
  const sockets: net.Socket[] = [];
  for (let i = 0; i < n; i++) {
    // Five listeners an address (127.0.1.2-101): a crowd, not one host, which the built-in output caps at 16 connections.
    const s = net.connect({ port: Number(u.port), host: u.hostname, localAddress: `127.0.1.${(i % 100) + 2}` }, () =>
      s.write(`GET ${u.pathname} HTTP/1.0\r\n\r\n`),
    );
    s.on('data', (d: Buffer) => {
      bytes += d.length;
    });
    s.on('close', () => {
      dropped++;
    });
    s.on('error', () => undefined);
    sockets.push(s);
  }
  await new Promise((r) => setTimeout(r, 3000));
  const c0 = treeUsage(pid()!).cpuSeconds;
  const b0 = bytes;
  const d0 = dropped;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const cpu = treeUsage(pid()!).cpuSeconds - c0;
  const wall = (performance.now() - t0) / 1000;
  for (const s of sockets) s.destroy();
  return { cpuPercent: Number(((cpu / wall) * 100).toFixed(2)), mbDelivered: Number(((bytes - b0) / 1e6).toFixed(1)), dropped: dropped - d0 };
}
const crowdDir = tempDir('bench-crowd');
writeFileSync(
  path.join(crowdDir, 'crowd.json'),
  JSON.stringify({ name: 'Crowd', mount: '/crowd.mp3', tracks: songs.map((s) => ({ source: 'file', path: s.file })) }),
);
const crowdPort = 18000 + Math.floor(Math.random() * 1000);
const station = startScast(crowdDir, { BUILTIN_OUTPUT: 'true', HTTP_PORT: String(crowdPort) });
await until('crowd mount on Icecast', async () => ((await mountListed(ice, '/crowd.mp3')) ? true : undefined), 20_000);
// The HTTP side starts after the mounts: wait for it too.
await until(
  'built-in output answering',
  async () =>
    (await fetch(`http://127.0.0.1:${crowdPort}/health`).then(
      (r) => r.ok,
      () => false,
    ))
      ? true
      : undefined,
  20_000,
);
const builtin = await crowd(`http://127.0.0.1:${crowdPort}/crowd.mp3`, 500, 20_000, () => station.pid);
const icecast = await crowd(`${ice.url}/crowd.mp3`, 500, 20_000, () => ice.pid());
station.kill('SIGKILL');
await ice.stop();

// Report.
// The figures first, whatever the report below makes of them.
console.log(JSON.stringify(rows));
const sc = rows.find((r) => r.tool === 'sCast');
const md: string[] = [];
md.push(
  `# sCast benchmark, ${new Date().toISOString()}`,
  '',
  `${seconds} s per tool and run (CPU counted from ${settle} s after the mount is live; start-up is in "CPU from spawn"), ${runs} run(s), medians; one Icecast 2.4.4 on loopback, ${music ? 'five music-like songs of 3.5 minutes' : 'five 15 s tones'} (four AAC 44.1 kHz stereo, one AAC 48 kHz mono), MP3 128 kbit/s, a listener recording each mount with ICY metadata.`,
  '',
);
md.push('| | ' + rows.map((r) => r.tool).join(' | ') + ' |', '|---|' + rows.map(() => '---').join('|') + '|');
const line = (label: string, f: (r: Summary) => string) => md.push(`| ${label} | ${rows.map(f).join(' | ')} |`);
const span = (xs: number[]) => (xs.length ? `${Math.min(...xs)} to ${Math.max(...xs)}` : '');
line('mount live after start (s)', (r) => String(r.liveSeconds ?? 'never'));
line(`CPU while recording, ${seconds} s (s, % of a core [range])`, (r) => `${r.cpuSeconds} (${r.cpuPercent} % [${r.cpuRange.join('-')}])`);
line('CPU from spawn, start-up included (% of a core)', (r) => `${r.cpuPercentWithStart} %`);
line('peak RSS (MB, process tree)', (r) => String(r.peakRssMB));
line('peak PSS (MB, process tree)', (r) => String(r.peakPssMB));
line('silence at seams (ms, all runs)', (r) =>
  music ? 'not measured on music' : r.seamSilencesMs.length ? `${r.seamSilencesMs.length} seams, ${span(r.seamSilencesMs)}` : 'no seam heard',
);
line('audio received vs wall clock (%)', (r) => String(r.receivedPercent));
line('title change vs audible seam (s, all runs)', (r) => (music ? 'not measured on music' : r.titleOffsetsS.length ? span(r.titleOffsetsS) : 'no titles'));
line('back on air after Icecast restart (s)', (r) => String(r.backOnAirSeconds ?? 'not within 40 s'));
const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : '-');
// Ratios to sCast on its defaults and to the produced station, when those were measured (see --only).
if (sc) {
  line('sCast / tool: CPU while recording', (r) => ratio(sc.cpuPercent, r.cpuPercent));
  line('sCast / tool: CPU from spawn', (r) => ratio(sc.cpuPercentWithStart, r.cpuPercentWithStart));
  line('sCast / tool: peak PSS', (r) => ratio(sc.peakPssMB, r.peakPssMB));
  line('sCast / tool: peak RSS', (r) => ratio(sc.peakRssMB, r.peakRssMB));
}
// The produced station (loudness + crossfade) against each tool, Liquidsoap's normalize + crossfade above all.
const sx = rows.find((r) => r.tool.startsWith('sCast: loudness'));
if (sx) {
  line('sCast loudness + crossfade / tool: CPU while recording', (r) => ratio(sx.cpuPercent, r.cpuPercent));
  line('sCast loudness + crossfade / tool: peak PSS', (r) => ratio(sx.peakPssMB, r.peakPssMB));
}
md.push(
  '',
  'The floor columns are no product. "node + lame": a node process that only writes a ready tone to a `lame` process every 100 ms and sends the MP3 to Icecast (the design before libmp3lame moved in process). "node + libmp3lame in process": the design sCast ships, bare: a minute of the first song decoded beforehand, then 250 ms of it encoded in process every 250 ms and sent to Icecast (no decoder process, mixing, titles or pacing logic). What sCast spends above the second is what its own work costs.',
);
md.push(
  '',
  `sCast analyses each song once ever (loudness, true peak, cues; kept beside the cache), before this run: ${analysisCpu.toFixed(2)} s of CPU for the ${songs.length} songs (${((analysisCpu / (songs.length * (music ? 210 : 15))) * 60).toFixed(2)} s per minute of audio), not counted above.`,
);
if (scale.length) {
  const liq = rows.find((r) => r.tool.startsWith('Liquidsoap: normalize'));
  md.push(
    '',
    '## sCast channels: loudness + 3 s crossfades, the same songs, one station',
    '',
    `| channels | CPU % per channel | per channel / Liquidsoap normalize + crossfade's one | main thread % | stand-in s (all channels) | PSS MB (tree) | RSS MB (tree) | worst pacing error ms | listener rate % |`,
    '|---|---|---|---|---|---|---|---|---|',
  );
  for (const s of scale)
    md.push(
      `| ${s.channels} | ${s.cpuPercentPerChannel} | ${liq ? ratio(s.cpuPercentPerChannel, liq.cpuPercent) : 'not run'} | ${s.mainThreadPercent} | ${s.standInSeconds} | ${s.pssMB} | ${s.rssMB} | ${s.worstPacingErrorMs} | ${s.listenerRatePercent} |`,
    );
}
md.push('', '## 500 listeners', '', '| | CPU % of a core | MB delivered in 20 s | listeners dropped |', '|---|---|---|---|');
md.push(`| sCast built-in output (whole streamer) | ${builtin.cpuPercent} | ${builtin.mbDelivered} | ${builtin.dropped} |`);
md.push(`| Icecast | ${icecast.cpuPercent} | ${icecast.mbDelivered} | ${icecast.dropped} |`);
const results = path.join(root, 'results');
mkdirSync(results, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
writeFileSync(path.join(results, `bench-${stamp}.md`), md.join('\n') + '\n');
writeFileSync(
  path.join(results, `bench-${stamp}.json`),
  JSON.stringify({ seconds, runs, songs: values.songs, tools: rows, everyRun: all, scale, crowd: { builtin, icecast } }, null, 2),
);
if (scale.length) writeFileSync(path.join(results, `bench-${stamp}.svg`), plot(scale));
console.log(md.join('\n'));
process.exit(0);

/** CPU seconds of the analysis sCast runs once per song (the same ffmpeg command), summed over `files`. */
function analysisCost(files: string[]): number {
  let total = 0;
  for (const f of files) {
    const before = readCpuOfChildren();
    execFileSync('ffmpeg', ['-hide_banner', '-nostats', '-i', f, '-map', '0:a:0', '-af', 'ebur128=peak=true,silencedetect=n=-50dB:d=0.05', '-f', 'null', '-'], {
      stdio: 'ignore',
    });
    total += readCpuOfChildren() - before;
  }
  return total;
}

/** CPU seconds of this process's waited-for children (utime + stime of the dead), from /proc. */
function readCpuOfChildren(): number {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[13]) + Number(f[14])) / 100;
}

/** Per-channel CPU and memory against channel count, as a small SVG. */
function plot(points: typeof scale): string {
  const W = 520;
  const H = 260;
  const most = Math.max(...points.map((p) => p.channels));
  const x = (n: number) => 50 + (n / most) * (W - 80);
  const maxCpu = Math.max(...points.map((p) => p.cpuPercentPerChannel)) * 1.2;
  const maxMem = Math.max(...points.map((p) => p.pssMB / p.channels)) * 1.2;
  const yc = (v: number) => H - 40 - (v / maxCpu) * (H - 70);
  const ym = (v: number) => H - 40 - (v / maxMem) * (H - 70);
  const poly = (f: (p: (typeof points)[number]) => [number, number]) => points.map((p) => f(p).join(',')).join(' ');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="${W / 2}" y="18" text-anchor="middle">sCast: per-channel CPU and memory vs channels</text>
<line x1="50" y1="${H - 40}" x2="${W - 30}" y2="${H - 40}" stroke="black"/><line x1="50" y1="30" x2="50" y2="${H - 40}" stroke="black"/>
${points.map((p) => `<text x="${x(p.channels)}" y="${H - 22}" text-anchor="middle">${p.channels}</text>`).join('')}
<text x="${W / 2}" y="${H - 6}" text-anchor="middle">channels</text>
<polyline fill="none" stroke="#d33" stroke-width="2" points="${poly((p) => [x(p.channels), yc(p.cpuPercentPerChannel)])}"/>
<polyline fill="none" stroke="#36c" stroke-width="2" points="${poly((p) => [x(p.channels), ym(p.pssMB / p.channels)])}"/>
${points.map((p) => `<text x="${x(p.channels) + 4}" y="${yc(p.cpuPercentPerChannel) - 4}" fill="#d33">${p.cpuPercentPerChannel}%</text><text x="${x(p.channels) + 4}" y="${ym(p.pssMB / p.channels) + 14}" fill="#36c">${(p.pssMB / p.channels).toFixed(1)} MB</text>`).join('')}
<text x="60" y="44" fill="#d33">CPU % of a core per channel</text><text x="60" y="60" fill="#36c">PSS MB per channel</text>
</svg>
`;
}
