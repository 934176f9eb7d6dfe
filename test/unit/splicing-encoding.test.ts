/**
 * The channel's MP3 stream sending stored frames (encode/splicing-encoding.ts),
 * with the real LAME and ffmpeg: a second play of the same songs in
 * another order sends most of their frames from the first play's takes,
 * and decodes as cleanly as one continuous encode of the same PCM.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { pino } from 'pino';
import { encodeWhole } from '../../scripts/lib/encode-once.js';
import { PcmEncoder } from '../../src/encode/encoder.js';
import { LAME_LIBRARY } from '../../src/encode/encoder-choice.js';
import { FrameStore } from '../../src/encode/frame-store.js';
import { SplicingEncoding } from '../../src/encode/splicing-encoding.js';
import type { TrackInfo } from '../../src/acquire/track-info.js';
import { tempDir } from '../helpers/station.js';

const F = 1152;
const log = pino({ level: 'silent' });

/** `seconds` of noise under a tone, different per seed. */
function song(seed: number, seconds: number): Int16Array {
  const pcm = new Int16Array(Math.round(44100 * seconds) * 2);
  let s = seed;
  for (let i = 0; i < pcm.length; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    pcm[i] = Math.round((s % 9000) - 4500 + 5000 * Math.sin((i >> 1) * 0.02 * seed));
  }
  return pcm;
}

/** Songs one after the other, each starting on a frame boundary, overlapping the one before by about `overlap` s (linear fades). */
function playout(songs: Int16Array[], overlap: number): { pcm: Int16Array; starts: number[] } {
  const starts: number[] = [];
  let at = 0;
  for (const s of songs) {
    starts.push(at);
    at = Math.floor((at + s.length / 2 - overlap * 44100) / F) * F;
  }
  const total = starts.at(-1)! + songs.at(-1)!.length / 2;
  const mix = new Float64Array(total * 2);
  songs.forEach((s, k) => {
    const n = s.length / 2;
    const fadeIn = k > 0 ? starts[k - 1]! + songs[k - 1]!.length / 2 - starts[k]! : 0;
    const fadeOut = k + 1 < songs.length ? starts[k]! + n - starts[k + 1]! : 0;
    for (let i = 0; i < n; i++) {
      let g = 1;
      if (i < fadeIn) g *= i / fadeIn;
      if (i >= n - fadeOut) g *= (n - i) / fadeOut;
      for (let c = 0; c < 2; c++) mix[(starts[k]! + i) * 2 + c]! += s[i * 2 + c]! * g;
    }
  });
  return { pcm: Int16Array.from(mix, (v) => Math.max(-32768, Math.min(32767, Math.round(v)))), starts };
}

/** Play `pcm` through a splicing encoding in ticks of 250 ms; between `noHold` samples [from, to), no frames may be held back (a DJ coming). */
async function air(
  store: FrameStore,
  keys: string[],
  pcm: Int16Array,
  starts: number[],
  noHold: [number, number] = [-1, -1],
  gainDb = 0,
): Promise<{ mp3: Buffer; session: SplicingEncoding }> {
  const out: Buffer[] = [];
  const session = new SplicingEncoding({
    bitrateKbps: 128,
    startEncoder: () => new PcmEncoder({ tool: 'lib', path: LAME_LIBRARY }, 128, log, { outputBlockMs: 250 }),
    store,
    variant: '128k test',
    log,
    onFrame: (f) => out.push(f.data),
    onFailed: (err) => assert.fail(err),
  });
  const tick = 11025;
  for (let at = 0; at < pcm.length / 2; at += tick) {
    starts.forEach((s, k) => {
      if (s < at || s >= at + tick) return;
      const info = { key: keys[k]!, source: 'file', title: keys[k]! } as TrackInfo;
      session.songStart(info, s - at, gainDb);
      session.markSongStart(info, s - at);
    });
    session.holdBack(at < noHold[0] || at >= noHold[1]);
    const part = pcm.subarray(at * 2, Math.min(pcm.length, (at + tick) * 2));
    session.write(Buffer.from(part.buffer, part.byteOffset, part.byteLength));
    // The encoder runs answer asynchronously, as a channel's ticks let them.
    await new Promise((r) => setImmediate(r));
  }
  await session.close();
  return { mp3: Buffer.concat(out), session };
}

function decode(mp3: Buffer): { pcm: Int16Array; errors: string } {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-f', 'mp3', '-i', '-', '-f', 's16le', '-ac', '2', '-'], { input: mp3, maxBuffer: 1 << 30 });
  return { pcm: new Int16Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.length >> 1), errors: r.stderr.toString() };
}

/** Error against the source per 1152-sample window (dBFS), after the codec's delay. */
function windowErrors(decoded: Int16Array, source: Int16Array, delay: number): number[] {
  const out: number[] = [];
  for (let w = 2; w < Math.floor(source.length / 2 / F) - 2; w++) {
    let e = 0;
    for (let i = w * F * 2; i < (w + 1) * F * 2; i++) e += ((decoded[i + delay * 2] ?? 0) - source[i]!) ** 2;
    out.push(10 * Math.log10(e / (2 * F) / 32768 ** 2 + 1e-12));
  }
  return out;
}

async function secondPlay(t: { diagnostic: (m: string) => void }, minShare: number, noHold?: [number, number]): Promise<SplicingEncoding> {
  const store = new FrameStore(tempDir('frames'), 1 << 30, log);
  const songs = [song(1, 14), song(2, 13), song(3, 15)];
  const keys = ['a', 'b', 'c'];
  const first = playout(songs, 2);
  const one = await air(store, keys, first.pcm, first.starts);
  assert.equal(one.session.reusedFrames, 0, 'nothing stored yet');

  const order = [2, 0, 1];
  const second = playout(
    order.map((k) => songs[k]!),
    1,
  );
  const two = await air(
    store,
    order.map((k) => keys[k]!),
    second.pcm,
    second.starts,
    noHold,
  );
  const frames = two.session.reusedFrames + two.session.encodedFrames;
  assert.ok(two.session.reusedFrames > frames * minShare, `stored frames sent: ${two.session.reusedFrames} of ${frames}`);
  assert.equal(two.session.roughJoins, 0);
  t.diagnostic(`reused ${two.session.reusedFrames} of ${frames}`);

  const spliced = decode(two.mp3);
  assert.equal(spliced.errors, '', 'the decoder reports nothing');
  const continuous = decode(encodeWhole(second.pcm));
  // The codec's delay: where the continuous encode matches the source best.
  let delay = 0;
  let best = Infinity;
  for (let d = 1000; d < 1300; d++) {
    let e = 0;
    for (let i = 88200; i < 88200 + 8192; i++) e += (continuous.pcm[i + d * 2]! - second.pcm[i]!) ** 2;
    if (e < best) [delay, best] = [d, e];
  }
  const e1 = windowErrors(spliced.pcm, second.pcm, delay);
  const e0 = windowErrors(continuous.pcm, second.pcm, delay);
  const worstExcess = Math.max(...e1.map((v, i) => v - e0[i]!));
  t.diagnostic(
    `worst window over the continuous encode's error ${worstExcess.toFixed(2)} median e1 ${[...e1].sort((a, b) => a - b)[e1.length >> 1]!.toFixed(1)} e0 ${[...e0].sort((a, b) => a - b)[e0.length >> 1]!.toFixed(1)}`,
  );
  assert.ok(worstExcess < 6, `worst window ${worstExcess.toFixed(1)} dB above the continuous encode's error`);
  assert.equal(spliced.pcm.length, continuous.pcm.length, 'every frame is there');
  return two.session;
}

test('a second play sends its songs’ stored frames and decodes as cleanly as one encode', async (t) => {
  await secondPlay(t, 0.6);
});

test('with frames held back no more (a DJ coming), a take is left cleanly at once and none entered until allowed again', async (t) => {
  // From 5 s into the second play's first song to 14 s.
  const session = await secondPlay(t, 0.4, [5 * 44100, 14 * 44100]);
  // Without the pause ~1200 frames are reused; it takes 9 s (~345 frames) of them away.
  assert.ok(session.reusedFrames < 1203 - 250, `${session.reusedFrames} frames reused`);
});

test('takes are kept per gain: a channel at another loudness target does not overwrite them', async () => {
  const store = new FrameStore(tempDir('frames-gain'), 1 << 30, log);
  const songs = [song(4, 8), song(5, 8)];
  const keys = ['a', 'b'];
  const loud = playout(songs, 1);
  const quiet = playout(
    songs.map((s) => s.map((v) => v >> 1)),
    1,
  );
  await air(store, keys, loud.pcm, loud.starts, undefined, 0);
  const other = await air(store, keys, quiet.pcm, quiet.starts, undefined, -6.02);
  assert.equal(other.session.reusedFrames, 0, 'other PCM: nothing of the louder takes fits');
  const again = await air(store, keys, loud.pcm, loud.starts, undefined, 0);
  const frames = again.session.reusedFrames + again.session.encodedFrames;
  assert.ok(again.session.reusedFrames > 0.8 * frames, `the louder channel's second play: ${again.session.reusedFrames} of ${frames} stored`);
  const quietAgain = await air(store, keys, quiet.pcm, quiet.starts, undefined, -6.02);
  assert.ok(quietAgain.session.reusedFrames > 0.8 * frames, `the quieter one's: ${quietAgain.session.reusedFrames} of ${frames}`);
});
