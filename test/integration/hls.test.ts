/**
 * HLS from the AAC renditions, as clients take it: the playlists and
 * segments over HTTP (headers, ID3 timestamps and titles, durations), the
 * same written to a folder, ffmpeg and mpv playing the master playlist, and
 * hls.js in Chromium with each title's cue measured against the seam it
 * hears.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { parseAdtsHeader } from '../../src/audio/adts.js';
import { readId3 } from '../../src/audio/id3.js';
import { frequencyTrack, makeTone, steadyToneWindows } from '../helpers/media.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

const run = promisify(execFile);
const HLS_JS = path.resolve(import.meta.dirname, '../../node_modules/hls.js/dist/hls.min.js');

/** The ID3 tags and ADTS frames of a packed-audio segment, in order. */
function partsOf(segment: Buffer): { tags: { at: number; frames: Record<string, string | number> }[]; samples: number } {
  const tags: { at: number; frames: Record<string, string | number> }[] = [];
  let samples = 0;
  for (let at = 0; at < segment.length;) {
    const tag = readId3(segment.subarray(at));
    if (tag) {
      tags.push({ at: samples, frames: tag.frames });
      at += tag.length;
      continue;
    }
    const h = parseAdtsHeader(segment, at);
    assert.ok(h, `an ADTS frame or an ID3 tag at byte ${at}`);
    samples += h.samples;
    at += h.frameLength;
  }
  return { tags, samples };
}

async function setup(prefix: string) {
  const dir = tempDir(prefix);
  await makeTone({ file: path.join(dir, 'a.mp3'), freq: 440, seconds: 5, args: ['-c:a', 'libmp3lame'], title: '第一', artist: '歌手' });
  await makeTone({ file: path.join(dir, 'b.mp3'), freq: 1000, seconds: 5, args: ['-c:a', 'libmp3lame'], title: 'Second' });
  writePlaylist(dir, 'h', {
    name: 'HLS',
    mount: '/h.mp3',
    loudness: false,
    hls: true,
    renditions: [
      { codec: 'aac', bitrate: 64, mount: '/h.aac' },
      { codec: 'aac', bitrate: 128, mount: '/h-hq.aac' },
      { codec: 'opus', bitrate: 48, mount: '/h.opus' },
    ],
    tracks: [
      { source: 'file', path: 'a.mp3' },
      { source: 'file', path: 'b.mp3' },
    ],
  });
  const hlsDir = path.join(dir, 'hls-out');
  const station = await runStation({ PLAYLISTS_DIR: dir, HLS_DIR: hlsDir });
  const segments = (n: number, timeoutMs = 40_000) =>
    station.logs.when(
      `${n} HLS segments`,
      () => (station.logs.find(/^HLS segment$/).filter((l) => l.variant === 'aac_64').length >= n ? true : undefined),
      timeoutMs,
    );
  return { dir, hlsDir, station, segments };
}

describe('HLS', { timeout: 240_000 }, () => {
  test('playlists and segments: headers, ID3 timestamps and titles, durations; the same files in HLS_DIR; ffmpeg and mpv play it', async () => {
    const { hlsDir, station, segments } = await setup('hls');
    try {
      await segments(4);
      const master = await fetch(`${station.url}/hls/h/live.m3u8`);
      assert.equal(master.status, 200);
      assert.equal(master.headers.get('content-type'), 'application/vnd.apple.mpegurl');
      assert.equal(master.headers.get('cache-control'), 'no-cache');
      assert.equal(master.headers.get('access-control-allow-origin'), '*');
      const masterText = await master.text();
      assert.deepEqual(
        masterText.split('\n').filter((l) => l && !l.startsWith('#')),
        ['aac_128/index.m3u8', 'aac_64/index.m3u8'],
        'every AAC rendition, the richest first; Opus is not packed audio',
      );
      assert.match(masterText, /CODECS="mp4a\.40\.2"/);
      const media = await (await fetch(`${station.url}/hls/h/aac_64/index.m3u8`)).text();
      const names = media.split('\n').filter((l) => l.endsWith('.aac'));
      const durations = [...media.matchAll(/#EXTINF:([\d.]+),/g)].map((m) => Number(m[1]));
      assert.ok(names.length >= 4, media);
      assert.match(media, /#EXT-X-TARGETDURATION:5\n/);
      assert.equal((media.match(/#EXT-X-PROGRAM-DATE-TIME:/g) ?? []).length, names.length);
      for (const d of durations) assert.ok(d >= 4 && d < 4.2, `segments of 4 s (${d})`);
      // Each segment: an ID3 tag with its first sample's time, then whole ADTS frames; consecutive times follow the durations.
      let previous: { ts: number; seconds: number } | null = null;
      const titled: string[] = [];
      for (const [i, name] of names.entries()) {
        const res = await fetch(`${station.url}/hls/h/aac_64/${name}`, { headers: { 'user-agent': 'hls-test' } });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-type'), 'audio/aac');
        assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
        const data = Buffer.from(await res.arrayBuffer());
        const { tags, samples } = partsOf(data);
        assert.equal(tags[0]?.at, 0, 'an ID3 tag opens the segment');
        const ts = tags[0]!.frames.PRIV as number;
        assert.equal(typeof ts, 'number');
        assert.ok(Math.abs(samples / 44100 - durations[i]!) < 0.001, 'the playlist says how long it is');
        if (previous)
          assert.ok(Math.abs(ts - (previous.ts + previous.seconds)) < 0.002, `timestamps follow on (${ts} after ${previous.ts} + ${previous.seconds})`);
        previous = { ts, seconds: samples / 44100 };
        for (const t of tags.slice(1)) titled.push(String(t.frames.TIT2));
        // The same bytes in the folder.
        assert.ok(readFileSync(path.join(hlsDir, 'h', 'aac_64', name)).equals(data), `${name} written to HLS_DIR`);
      }
      assert.ok(titled.includes('Second') || titled.includes('第一'), `a title tag where a song starts (${JSON.stringify(titled)})`);
      assert.equal(readFileSync(path.join(hlsDir, 'h', 'live.m3u8'), 'utf8'), masterText);
      assert.equal(readFileSync(path.join(hlsDir, 'h', 'aac_64', 'index.m3u8'), 'utf8').split('\n')[3], media.split('\n')[3], 'the folder playlist is current');
      // The segment fetches count as a listener.
      const view = (await (await fetch(`${station.url}/api/channels/h`)).json()) as { listeners: number; listen: { hls: string } };
      assert.equal(view.listen.hls, `${station.url}/hls/h/live.m3u8`);
      assert.ok(view.listeners >= 1, `the HLS client counted (${view.listeners})`);
      const az = (await (await fetch(`${station.url}/api/nowplaying/h`)).json()) as {
        station: { hls_enabled: boolean; hls_url: string; hls_listeners: number };
      };
      assert.deepEqual([az.station.hls_enabled, az.station.hls_url, az.station.hls_listeners], [true, view.listen.hls, 1]);
      // Unknown names are 404s, never a 5xx.
      for (const bad of ['/hls/nope/live.m3u8', '/hls/h/aac_65/index.m3u8', '/hls/h/aac_64/..%2f..%2fh.json', '/hls/h/aac_64/deadbeef-999.aac']) {
        assert.equal((await fetch(`${station.url}${bad}`)).status, 404, bad);
      }
      // Players: ffmpeg and mpv take the master playlist and play the songs.
      const { stdout } = await run(
        'ffmpeg',
        ['-hide_banner', '-loglevel', 'error', '-i', `${station.url}/hls/h/live.m3u8`, '-t', '12', '-ac', '1', '-ar', '44100', '-f', 's16le', '-'],
        { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
      );
      const ffTrack = frequencyTrack(new Int16Array(stdout.buffer, stdout.byteOffset, stdout.length / 2));
      assert.ok(steadyToneWindows(ffTrack, 440) > 20 && steadyToneWindows(ffTrack, 1000) > 20, 'ffmpeg heard both songs over HLS');
      const wav = path.join(hlsDir, 'mpv.wav');
      await run('mpv', ['--no-config', '--no-video', '--ao=pcm', `--ao-pcm-file=${wav}`, '--length=12', `${station.url}/hls/h/live.m3u8`], { timeout: 60_000 });
      const { stdout: mpvPcm } = await run('ffmpeg', ['-v', 'error', '-i', wav, '-ac', '1', '-ar', '44100', '-f', 's16le', '-'], {
        encoding: 'buffer',
        maxBuffer: 64 * 1024 * 1024,
      });
      const mpvTrack = frequencyTrack(new Int16Array(mpvPcm.buffer, mpvPcm.byteOffset, mpvPcm.length / 2));
      assert.ok(steadyToneWindows(mpvTrack, 440) > 20 && steadyToneWindows(mpvTrack, 1000) > 20, 'mpv heard both songs over HLS');
      console.log(
        `# HLS: segments ${durations.map((d) => d.toFixed(3)).join(', ')} s; ffmpeg 440/1000 Hz windows ${steadyToneWindows(ffTrack, 440)}/${steadyToneWindows(ffTrack, 1000)}; mpv ${steadyToneWindows(mpvTrack, 440)}/${steadyToneWindows(mpvTrack, 1000)}`,
      );
    } finally {
      await station.close();
    }
  });

  test("hls.js in Chromium: plays the master playlist; each title's cue lands on the seam it plays", async () => {
    const { station, segments } = await setup('hls-js');
    const site = createServer((req, res) => {
      const js = req.url === '/hls.js';
      res.setHeader('content-type', js ? 'text/javascript' : 'text/html');
      res.end(js ? readFileSync(HLS_JS) : '<!doctype html><title>player</title><script src="/hls.js"></script>');
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--autoplay-policy=no-user-gesture-required'],
    });
    try {
      await segments(3);
      const page = await browser.newPage();
      // Another origin than the station's, as a web player on a station's site would be (on loopback too:
      // Chromium refuses a public page's requests to loopback).
      await page.goto(`http://127.0.0.1:${(site.address() as { port: number }).port}/`);
      const result = (await page.evaluate(`(${HLS_IN_PAGE})(${JSON.stringify(`${station.url}/hls/h/live.m3u8`)}, 22)`)) as {
        supported: boolean;
        played: number;
        error: string | null;
        cues: { time: number; title: string }[];
        changes: { time: number; to: number }[];
      };
      assert.ok(result.supported, 'hls.js runs here (Media Source Extensions)');
      assert.equal(result.error, null);
      assert.ok(result.played >= 20, `played ${result.played} s`);
      // Each tone change heard, and the title cue nearest to it.
      const offsets = result.changes.map((c) => {
        const want = c.to === 1000 ? 'Second' : '第一';
        const cue = result.cues.filter((q) => q.title === want).sort((a, b) => Math.abs(a.time - c.time) - Math.abs(b.time - c.time))[0];
        assert.ok(cue, `a "${want}" cue near ${c.time.toFixed(2)} s (${JSON.stringify(result.cues)})`);
        return cue.time - c.time;
      });
      console.log(`# hls.js: title cue minus audible seam ${offsets.map((o) => `${Math.round(o * 1000)} ms`).join(', ')}; cues ${result.cues.length}`);
      assert.ok(offsets.length >= 2, `at least two seams heard (${JSON.stringify(result.changes)})`);
      // The analyser reads 23 ms windows every 20 ms: a seam is placed within ~50 ms of where it is.
      for (const o of offsets) assert.ok(Math.abs(o) < 0.15, `the title within 150 ms of its seam (${Math.round(o * 1000)} ms)`);
    } finally {
      await browser.close();
      await station.close();
      site.close();
    }
  });
});

/**
 * In the page: hls.js playing the master playlist into an <audio>, a Web
 * Audio analyser on it, and the ID3 title cues hls.js makes (a "metadata"
 * text track). Returns the cues and the media times where the loudest
 * frequency changed between the two tones. Plain JavaScript (the test
 * runner's transpiler would add helpers the page does not have).
 */
const HLS_IN_PAGE = `async (src, seconds) => {
  if (!Hls.isSupported()) return { supported: false, played: 0, error: null, cues: [], changes: [] };
  const a = document.createElement('audio');
  document.body.appendChild(a);
  const hls = new Hls({ enableWorker: false });
  let error = null;
  hls.on(Hls.Events.ERROR, (_e, d) => { if (d.fatal) error = d.type + ': ' + d.details; });
  hls.loadSource(src);
  hls.attachMedia(a);
  await new Promise((resolve) => {
    hls.on(Hls.Events.MANIFEST_PARSED, resolve);
    hls.on(Hls.Events.ERROR, (_e, d) => d.fatal && resolve());
  });
  if (error) return { supported: true, played: 0, error, cues: [], changes: [] };
  const ctx = new AudioContext();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 1024;
  ctx.createMediaElementSource(a).connect(analyser);
  await a.play();
  const bins = new Float32Array(analyser.frequencyBinCount);
  const changes = [];
  let tone = 0;
  await new Promise((resolve) => {
    function look() {
      analyser.getFloatFrequencyData(bins);
      let best = 0;
      for (let i = 1; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
      const hz = (best * ctx.sampleRate) / analyser.fftSize;
      const now = Math.abs(hz - 440) < 60 ? 440 : Math.abs(hz - 1000) < 60 ? 1000 : 0;
      if (now && tone && now !== tone) changes.push({ time: a.currentTime, to: now });
      if (now) tone = now;
      if (a.currentTime >= seconds || error) resolve();
      else setTimeout(look, 20);
    }
    look();
  });
  const cues = [];
  for (const track of a.textTracks) {
    if (track.kind !== 'metadata') continue;
    for (const cue of track.cues || []) {
      const v = cue.value;
      if (v && v.key === 'TIT2') cues.push({ time: cue.startTime, title: v.data });
    }
  }
  const out = { supported: true, played: a.currentTime, error, cues, changes };
  hls.destroy();
  await ctx.close();
  return out;
}`;
