/**
 * Crossfades measured where the listener is: four tones of different
 * pitches, mastered at different levels, one with a lead-in and a long
 * near-silent tail, one shorter than twice the crossfade, play with
 * `crossfade: 3` and loudness on. The built-in output's stream is recorded
 * as a player receives it and each tone's level is followed through the
 * recording (a windowed single-frequency DFT), so every seam's overlap,
 * curve, loudness and title timing come from the audio itself.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import { listen } from '../helpers/listener.js';
import { decodeMp3, silentRuns } from '../helpers/media.js';
import { until } from '../helpers/ports.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

const run = promisify(execFile);
const SR = 44100;
const HOP_S = 0.005;
const CROSSFADE = 3;
const CONTROL = 'control-secret-0123456789abc';

/** Amplitude of `freq` in Hann windows of 40 ms every 5 ms (window centres at i * HOP_S + 20 ms). */
function toneLevel(pcm: Int16Array, freq: number): Float64Array {
  const n = Math.round(SR * 0.04);
  const hop = Math.round(SR * HOP_S);
  const w = Float64Array.from({ length: n }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1)));
  const sumW = w.reduce((a, b) => a + b, 0);
  const cos = Float64Array.from({ length: n }, (_, i) => Math.cos((2 * Math.PI * freq * i) / SR));
  const sin = Float64Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * freq * i) / SR));
  const out = new Float64Array(Math.max(0, Math.floor((pcm.length - n) / hop)));
  for (let k = 0; k < out.length; k++) {
    let re = 0;
    let im = 0;
    for (let i = 0, j = k * hop; i < n; i++, j++) {
      const x = pcm[j]! * w[i]!;
      re += x * cos[i]!;
      im += x * sin[i]!;
    }
    out[k] = (2 * Math.hypot(re, im)) / sumW;
  }
  return median(out, 12);
}

/**
 * Running median over 2 * half + 1 windows: a click (broadband, ~8 windows
 * wide) is removed, while a fade (monotonic) passes unchanged.
 */
function median(x: Float64Array, half: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let k = 0; k < x.length; k++) {
    const w = Array.from(x.subarray(Math.max(0, k - half), Math.min(x.length, k + half + 1))).sort((a, b) => a - b);
    out[k] = w[Math.floor(w.length / 2)]!;
  }
  return out;
}

const centre = (k: number): number => k * HOP_S + 0.02;

/** Short-term (3 s) loudness every 100 ms, as ebur128 reports it, with each value's time. */
async function shortTerm(file: string): Promise<{ t: number; s: number }[]> {
  const { stderr } = await run('ffmpeg', ['-hide_banner', '-nostats', '-i', file, '-af', 'ebur128=peak=true', '-f', 'null', '-'], {
    maxBuffer: 256 * 1024 * 1024,
  });
  return [...stderr.matchAll(/t:\s*([\d.]+)\s+TARGET.*?S:\s*(-?[\d.]+|-inf)/g)].map((m) => ({
    t: Number(m[1]),
    s: m[2] === '-inf' ? -Infinity : Number(m[2]),
  }));
}

async function truePeak(file: string): Promise<number> {
  const { stderr } = await run('ffmpeg', ['-hide_banner', '-nostats', '-i', file, '-af', 'ebur128=peak=true', '-f', 'null', '-'], {
    maxBuffer: 256 * 1024 * 1024,
  });
  return Number(/Peak:\s*(-?[\d.]+) dBFS/.exec(stderr.slice(stderr.lastIndexOf('Summary:')))![1]);
}

interface Song {
  name: string;
  freq: number;
  seconds: number;
  gainDb: number;
  codec: string[];
  ext: string;
  lead?: number;
  tail?: number;
  /** Full-scale clicks every 2 s: a quiet song brought up meets the limiter, in and out of overlaps. */
  clicks?: boolean;
}

async function make(dir: string, s: Song): Promise<void> {
  let tone = `sine=frequency=${s.freq}:sample_rate=44100:duration=${s.seconds},volume=${s.gainDb}dB,aformat=channel_layouts=stereo`;
  if (s.clicks)
    tone += `[t];aevalsrc='if(lt(mod(t+0.5,2),0.0001),0.99,0)':s=44100:d=${s.seconds},aformat=channel_layouts=stereo[k];[t][k]amix=inputs=2:normalize=0`;
  const graph =
    s.lead || s.tail
      ? `anullsrc=r=44100:cl=stereo:d=${s.lead ?? 0.01}[a];${tone}[b];sine=frequency=${s.freq}:sample_rate=44100:duration=${s.tail ?? 0.01},volume=${s.gainDb - 60}dB,aformat=channel_layouts=stereo[c];[a][b][c]concat=n=3:v=0:a=1[out]`
      : `${tone}[out]`;
  await run('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-filter_complex',
    graph,
    '-map',
    '[out]',
    '-metadata',
    `title=${s.name}`,
    ...s.codec,
    path.join(dir, `${s.name}.${s.ext}`),
  ]);
}

describe('crossfades, measured at a listener', { timeout: 240_000 }, () => {
  test('songs overlap the crossfade on equal-power curves from their audible end, titles change mid-overlap, no dip, no clip, no hole; a skip fades', async () => {
    const dir = tempDir('crossfade');
    const songs: Song[] = [
      { name: 'padded', freq: 330, seconds: 8, gainDb: -6, codec: ['-c:a', 'aac', '-b:a', '192k'], ext: 'm4a', lead: 1.5, tail: 4 },
      { name: 'hot', freq: 440, seconds: 8, gainDb: 14, codec: ['-c:a', 'libmp3lame', '-b:a', '192k'], ext: 'mp3' },
      { name: 'short', freq: 550, seconds: 2, gainDb: 4, codec: ['-c:a', 'flac'], ext: 'flac' },
      { name: 'quiet', freq: 660, seconds: 8, gainDb: -12, codec: ['-c:a', 'libvorbis', '-q:a', '6'], ext: 'ogg', clicks: true },
    ];
    for (const s of songs) await make(dir, s);
    writePlaylist(dir, 'x', {
      name: 'Xfade',
      mount: '/x.mp3',
      crossfade: CROSSFADE,
      tracks: songs.map((s) => ({ source: 'file', path: `${s.name}.${s.ext}`, title: s.name })),
    });
    const station = await runStation({ PLAYLISTS_DIR: dir, CACHE_DIR: tempDir('crossfade-cache'), CONTROL_TOKEN: CONTROL });
    try {
      const listener = await listen(`${station.url}/x.mp3`);
      const ws = new WebSocket(`${station.url.replace('http', 'ws')}/ws?channel=x`);
      const trackMsgs: { title: string; at: number }[] = [];
      ws.on('message', (d) => {
        const m = JSON.parse(String(d)) as { type: string; nowPlaying?: { title: string } };
        if (m.type === 'track') trackMsgs.push({ title: m.nowPlaying!.title, at: Date.now() });
      });
      // Round one warms the analyses (cues and gains); round two is measured.
      await until(
        'two rounds and a bit',
        () => (listener.titles.filter((t) => t.title === 'padded').length >= 3 && listener.titles.at(-1)?.title === 'hot' ? true : undefined),
        150_000,
      );
      // A skip in the middle of `hot`.
      const hotStart = listener.titles.at(-1)!;
      await listener.when('mid-song', () => (listener.bytes > hotStart.audioOffset + 3 * 16000 ? true : undefined), 10_000);
      const skipAtByte = listener.bytes;
      const res = await fetch(`${station.url}/api/channels/x/skip`, { method: 'POST', headers: { authorization: `Bearer ${CONTROL}` } });
      assert.equal(res.status, 202);
      await listener.when('after the skip', () => (listener.bytes > skipAtByte + 4 * 16000 ? true : undefined), 15_000);
      listener.close();
      ws.close();
      const rec = path.join(dir, 'recording.mp3');
      writeFileSync(rec, listener.audio());
      const pcm = await decodeMp3(listener.audio());
      // Bytes the decoder skipped at the start (a partial frame, or frames it took for junk while syncing): PCM time + this = stream time.
      const skipped = listener.audio().length / 16000 - pcm.length / SR;
      const level = new Map(songs.map((s) => [s.name, toneLevel(pcm, s.freq)]));

      // Round two: from the third `padded` title back to the second.
      const padded = listener.titles.filter((t) => t.title === 'padded');
      const from = padded[1]!.audioOffset / 16000 - 4;
      const to = padded[2]!.audioOffset / 16000 + 4;
      const order = ['padded', 'hot', 'short', 'quiet', 'padded'];
      /** Each tone's steady level: the median of its level where it is the loudest. */
      const steady = new Map(
        songs.map((s) => {
          const l = level.get(s.name)!;
          const vals = [...l]
            .filter((v, k) => centre(k) > from && centre(k) < to && songs.every((o) => o === s || v > 4 * level.get(o.name)![k]!))
            .sort((a, b) => a - b);
          return [s.name, vals[Math.floor(vals.length / 2)]!];
        }),
      );
      const r = 0.03; // -30 dB: where a fading tone counts as present
      const t1 = (2 / Math.PI) * Math.asin(r);
      const t2 = (2 / Math.PI) * Math.acos(r);
      const report: string[] = [];
      for (let i = 0; i + 1 < order.length; i++) {
        const out = order[i]!;
        const inc = order[i + 1]!;
        const lo = level.get(out)!;
        const li = level.get(inc)!;
        // The seam is where the incoming tone first rises above r in this round, after the outgoing's own start.
        const title = listener.titles.filter((t) => t.title === inc && t.audioOffset / 16000 > from + 1)[inc === 'padded' ? 1 : 0]!;
        const near = title.audioOffset / 16000;
        let k = Math.floor((near - 4 - 0.02) / HOP_S);
        while (k < li.length && li[k]! < r * steady.get(inc)!) k++;
        const inAt = centre(k);
        let j = k;
        while (j < lo.length && lo[j]! >= r * steady.get(out)!) j++;
        const outGone = centre(j);
        const measured = outGone - inAt;
        const expected = Math.min(CROSSFADE, out === 'short' || inc === 'short' ? 1 : CROSSFADE);
        // The true overlap from where the curves cross r (sin and cos are known): start = inAt - t1 * N.
        const start = inAt - t1 * expected;
        const overlap = measured / (t2 - t1);
        const mid = start + overlap / 2;
        // The curve: mid-overlap each tone at cos(pi/4) = 0.707 of its steady level (equal power).
        const m = Math.round((mid - 0.02) / HOP_S);
        const outMid = lo[m]! / steady.get(out)!;
        const inMid = li[m]! / steady.get(inc)!;
        const titleOffset = near - (mid + skipped);
        const midByte = Math.round((mid + skipped) * 16000);
        const msg = trackMsgs.find((t) => t.title === inc && Math.abs(t.at - listener.arrivalOf(midByte)!) < 3000);
        const msgOffset = msg ? msg.at - listener.arrivalOf(midByte)! : NaN;
        report.push(
          `${out}->${inc}: overlap ${overlap.toFixed(3)} s (want ${expected}), mid-levels ${outMid.toFixed(2)}/${inMid.toFixed(2)}, ICY title ${Math.round(titleOffset * 1000)} ms, feed ${Math.round(msgOffset)} ms from mid`,
        );
        const shortened = station.logs
          .find(/crossfade shortened/)
          .map((l) => `${String(l.song)}: ${String(l.msg)} (${String(l.gotMs)} of ${String(l.wantMs)} ms)`);
        assert.ok(Math.abs(overlap - expected) <= 0.05, `${out}->${inc} overlap ${overlap}; the station said: ${shortened.join('; ') || 'nothing'}`);
        assert.ok(Math.abs(outMid - Math.SQRT1_2) < 0.08 && Math.abs(inMid - Math.SQRT1_2) < 0.08, `${out}->${inc} mid levels ${outMid} ${inMid}`);
        // ICY titles ride between blocks of `icy-metaint` audio bytes: the first block boundary after the middle.
        const metaint = Number(listener.headers['icy-metaint']) / 16000;
        assert.ok(titleOffset >= -0.25 && titleOffset <= metaint + 0.25, `${out}->${inc} ICY title ${titleOffset} s from mid-overlap (blocks of ${metaint} s)`);
        // The message goes out with the frame where the title changes; audio reaches the listener a tick (250 ms on songs) at a
        // time and the middle is measured from levels, so it may fall a tick's chunk away: a tick and 150 ms.
        assert.ok(Math.abs(msgOffset) <= 400, `${out}->${inc} feed message ${msgOffset} ms from mid-overlap`);
      }
      // The short song played whole: present (above r) for its 2 s less the curve ends.
      const ls = level.get('short')!;
      const present = [...ls].filter((v, k) => centre(k) > from && centre(k) < to && v >= r * steady.get('short')!).length * HOP_S;
      report.push(`short song present ${present.toFixed(3)} s of 2`);
      assert.ok(Math.abs(present - (2 - 2 * t1 * 1)) <= 0.05, `short present ${present}`);

      // Loudness through the round: short-term never dips 6 LU under the songs'; no clip; no hole.
      const st = (await shortTerm(rec)).filter((p) => p.t > from + 3 && p.t < to);
      const minS = Math.min(...st.map((p) => p.s));
      const peak = await truePeak(rec);
      const roundPcm = pcm.subarray(Math.floor(from * SR), Math.floor(to * SR));
      const holes = silentRuns(roundPcm).filter((h) => h.ms > 50);
      report.push(`short-term loudness min ${minS.toFixed(1)} LUFS (target -16), true peak ${peak.toFixed(2)} dBTP, silences > 50 ms: ${holes.length}`);
      assert.ok(minS >= -16 - 6 + 1, `short-term min ${minS}`); // the songs sit at -16 +/- 1
      assert.ok(peak <= -1, `true peak ${peak}`);
      assert.deepEqual(holes, []);

      // The skip: `hot` fades from 90 % to 3 % of its level in ~0.35 s (a 0.5 s equal-power fade), not a cut.
      const lh = level.get('hot')!;
      let a = Math.floor((skipAtByte / 16000 - 1) / HOP_S);
      while (a < lh.length && lh[a]! >= 0.9 * steady.get('hot')!) a++;
      let b = a;
      while (b < lh.length && lh[b]! >= r * steady.get('hot')!) b++;
      const fade = (b - a) * HOP_S;
      report.push(`skip fade 90 % -> 3 %: ${fade.toFixed(3)} s (0.5 s curve: 0.347 s)`);
      assert.ok(fade > 0.25 && fade < 0.45, `skip fade ${fade}`);
      console.log(`# ${report.join('\n# ')}`);
    } finally {
      await station.close();
    }
  });
});
