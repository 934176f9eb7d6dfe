import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { AnalysisStore } from '../../src/decode/analysis-store.js';
import { captureLogs } from '../helpers/station.js';
import { GainLimiter } from '../../src/audio/limiter.js';
import { dbToLinear, gainFor, parseEbur128 } from '../../src/audio/loudness.js';
import { AutoGain, LoudnessMeter } from '../../src/audio/loudness-meter.js';

/** The mix the limiter takes: interleaved stereo floats from per-frame values (same on both channels), times a gain. */
function pcm(values: number[], gain = 1): Float32Array {
  const f = new Float32Array(values.length * 2);
  values.forEach((v, i) => {
    f[2 * i] = v * gain;
    f[2 * i + 1] = v * gain;
  });
  return f;
}
const left = (b: Buffer): number[] => Array.from({ length: b.length / 4 }, (_, i) => b.readInt16LE(i * 4));
const sine = (n: number, amp: number, period = 100): number[] =>
  Array.from({ length: n }, (_, i) => Math.round(amp * Math.sin((2 * Math.PI * i) / period)) + 0);

describe('limiter', () => {
  test('under the ceiling it is a pure delay, sample for sample', () => {
    const lim = new GainLimiter({ ceiling: 0.9, lookaheadFrames: 16 });
    const input = sine(2000, 10_000);
    const out = left(lim.process(pcm(input)));
    const d = lim.latencyFrames;
    assert.deepEqual(out.slice(d), input.slice(0, input.length - d));
    assert.deepEqual(out.slice(0, d), new Array(d).fill(0));
    assert.equal(lim.limitedFrames, 0);
  });

  test('loud bursts never pass the ceiling; the level comes back after the release', () => {
    const ceiling = dbToLinear(-2);
    const lim = new GainLimiter({ ceiling, lookaheadFrames: 88, releaseSeconds: 0.05 });
    // A quiet song brought up 12 dB, with a transient at full scale.
    const input = [...sine(4410, 2000), ...sine(441, 32_000, 20), ...sine(44_100, 2000)];
    const out = left(lim.process(pcm(input, dbToLinear(12))));
    const max = Math.max(...out.map(Math.abs));
    assert.ok(max <= Math.floor(ceiling * 32767), `peak ${max}`);
    assert.ok(lim.limitedFrames > 0);
    // Well after the burst: back to the full 12 dB gain (2000 * 3.98 = 7962).
    const tail = out.slice(-4410).map(Math.abs);
    assert.ok(Math.max(...tail) > 7900 && Math.max(...tail) < 8000, `tail peak ${Math.max(...tail)}`);
  });

  test('the same output however the input is cut into calls', () => {
    const input = [...sine(3000, 3000), ...sine(300, 30_000, 10), ...sine(3000, 3000)];
    const whole = new GainLimiter({ ceiling: 0.8, lookaheadFrames: 32 });
    const a = left(whole.process(pcm(input, 2)));
    const pieces = new GainLimiter({ ceiling: 0.8, lookaheadFrames: 32 });
    const b: number[] = [];
    for (let i = 0; i < input.length; i += 7) b.push(...left(pieces.process(pcm(input.slice(i, i + 7), 2))));
    assert.deepEqual(b, a);
  });

  test('once released, blocks with nothing to limit take the delay path and give what the full limiter gives', () => {
    // Quiet, a burst, then quiet long enough for the gain to come back to exactly 1.
    const input = [...sine(8820, 3000), ...sine(441, 30_000, 10), ...sine(88_200, 3000)];
    const blocks = new GainLimiter({ ceiling: 0.8, lookaheadFrames: 88, releaseSeconds: 0.05 });
    const a: number[] = [];
    for (let i = 0; i < input.length; i += 11_025) a.push(...left(blocks.process(pcm(input.slice(i, i + 11_025), 2))));
    // Blocks of 7 frames are shorter than the look-ahead: the full limiter runs on every one.
    const full = new GainLimiter({ ceiling: 0.8, lookaheadFrames: 88, releaseSeconds: 0.05 });
    const b: number[] = [];
    for (let i = 0; i < input.length; i += 7) b.push(...left(full.process(pcm(input.slice(i, i + 7), 2))));
    assert.deepEqual(a, b);
    assert.ok(blocks.limitedFrames > 0);
    // The last second: the input doubled, 89 frames late, sample for sample.
    const d = blocks.latencyFrames;
    assert.deepEqual(
      a.slice(-44_100),
      input.slice(-44_100 - d, -d).map((v) => v * 2),
    );
  });
});

describe('loudness analysis', () => {
  const frame = (t: number, m: number, peak: number | '-inf') =>
    `[Parsed_ebur128_0 @ 0x1] t: ${t.toFixed(5)}    TARGET:-23 LUFS    M: ${m} S: -40.0     I: -30.0 LUFS       LRA:   0.0 LU  FTPK: ${peak} ${peak} dBFS  TPK: -10.0 -10.0 dBFS`;
  const summary = (i: number, p: number) =>
    `[Parsed_ebur128_0 @ 0x1] Summary:\n\n  Integrated loudness:\n    I:         ${i.toFixed(1)} LUFS\n    Threshold: -40.0 LUFS\n\n  True peak:\n    Peak:      ${p.toFixed(1)} dBFS\n`;

  test('integrated loudness, true peak and where audible audio begins and ends (30 dB below the song)', () => {
    const frames = [];
    for (let k = 1; k <= 100; k++) {
      const t = k / 10;
      const audible = t > 2.0 && t <= 7.0; // 2 s of lead-in, 3 s of near-silent tail
      frames.push(frame(t - 0.00002, audible ? -20 : -80, audible ? -12 : k % 2 ? '-inf' : -60));
    }
    const a = parseEbur128(`${frames.join('\n')}\n${summary(-20.4, -11.7)}`)!;
    assert.deepEqual(a, { integratedLufs: -20.4, truePeakDb: -11.7, startSeconds: 2, endSeconds: 7 });
  });

  test("regression: a loud frame's ringing into the next does not keep 100 ms of tail: silencedetect's exact edge wins when it is close", () => {
    const frames = Array.from({ length: 80 }, (_, k) => {
      const t = (k + 1) / 10;
      // Audible from 1.5 to 5.5 s; the frame ending at 5.6 still sees the ring of the last loud samples.
      const audible = (t > 1.5 && t <= 5.5) || Math.abs(t - 5.6) < 0.01;
      return frame(t - 0.00002, -20, audible ? -12 : -75);
    });
    const log = `${frames.join('\n')}\n[silencedetect @ 0x2] silence_start: 0\n[silencedetect @ 0x2] silence_end: 1.50002 | silence_duration: 1.50002\n[silencedetect @ 0x2] silence_start: 5.5\n[silencedetect @ 0x2] silence_end: 8 | silence_duration: 2.5\n${summary(-16, -15)}`;
    const a = parseEbur128(log)!;
    assert.deepEqual([a.startSeconds, a.endSeconds], [1.5, 5.5]);
  });

  test('lead-ins and tails under 0.2 s are kept; a silent file or a pass that did not finish gives nothing', () => {
    const frames = Array.from({ length: 30 }, (_, k) => frame((k + 1) / 10, -20, k === 0 ? -70 : -12));
    const kept = parseEbur128(`${frames.join('\n')}\n${summary(-20, -12)}`)!;
    assert.deepEqual([kept.startSeconds, kept.endSeconds], [0, null], 'no trim: from the start to the end of the file');
    assert.equal(parseEbur128(frames.join('\n')), null);
    assert.equal(parseEbur128(`${frames.join('\n')}\n${summary(-120.7, -90)}`), null);
  });

  test('the gain brings the song to the target, plus its own; unknown songs are taken as -14 LUFS', () => {
    const target = { targetLufs: -16, ceilingDb: -2 };
    assert.equal(gainFor({ integratedLufs: -30 }, target), 14);
    assert.equal(gainFor({ integratedLufs: -6 }, target, -1.5), -11.5);
    assert.equal(gainFor(null, target), -2);
  });
});

describe('live loudness meter and automatic gain', () => {
  const sine = (seconds: number, amplitude: number, freq = 997): Buffer => {
    const b = Buffer.alloc(Math.round(44100 * seconds) * 4);
    for (let i = 0; i < b.length / 4; i++) {
      const v = Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * freq * i) / 44100));
      b.writeInt16LE(v, i * 4);
      b.writeInt16LE(v, i * 4 + 2);
    }
    return b;
  };

  test("a 997 Hz sine in both channels reads 20 log10(amplitude) LUFS (BS.1770: K-weighting's +0.691 dB there is what the -0.691 offsets), digital silence -Infinity", () => {
    for (const lufs of [-40, -23, -10]) {
      const m = new LoudnessMeter(30);
      m.push(sine(3, 10 ** (lufs / 20)));
      assert.ok(Math.abs(m.lufs! - lufs) < 0.1, `${m.lufs} for ${lufs}`);
    }
    const quiet = new LoudnessMeter(30);
    assert.equal(quiet.lufs, null);
    quiet.push(Buffer.alloc(44100 * 4));
    assert.equal(quiet.lufs, -Infinity);
  });

  test('the automatic gain brings -32 LUFS to -16 within 2.5 s, then holds through silence; bounded by its range', () => {
    const g = new AutoGain({ target: -16 });
    const input = sine(2.5, 10 ** (-32 / 20));
    for (let at = 0; at < input.length; at += 4410 * 4) g.push(input.subarray(at, at + 4410 * 4));
    assert.ok(Math.abs(g.db - 16) < 0.1, `gain ${g.db}`);
    g.push(Buffer.alloc(44100 * 4 * 5));
    assert.ok(Math.abs(g.db - 16) < 0.1, `silence moved the gain to ${g.db}`);
    const far = new AutoGain({ target: -16, rangeDb: 6 });
    far.push(sine(3, 10 ** (-40 / 20)));
    assert.equal(far.db, 6);
  });
});

describe('the analysis store file', () => {
  const a = (lufs: number) => ({ integratedLufs: lufs, truePeakDb: -1, startSeconds: 0, endSeconds: null });
  const line = (key: string, lufs: number): string => `${JSON.stringify({ key, a: a(lufs) })}\n`;

  test('read in pieces: valid lines kept, a torn line, an oversized line and junk skipped and counted', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'analyses-'));
    const file = path.join(dir, 'analysis.jsonl');
    // A 3 MB line (no entry is that long) between good ones, spanning several read pieces.
    writeFileSync(
      file,
      line('one', -14) +
        `{"key":"huge","a":"${'x'.repeat(3 * 1024 * 1024)}"}\n` +
        line('two', -20) +
        'not json\n' +
        line('three', -9) +
        '{"key":"torn","a":{"integ',
    );
    const logs = captureLogs('info');
    const store = new AnalysisStore(file, logs.logger);
    await store.load();
    assert.equal(store.get('one')?.integratedLufs, -14);
    assert.equal(store.get('two')?.integratedLufs, -20);
    assert.equal(store.get('three')?.integratedLufs, -9);
    assert.equal(store.get('huge'), undefined);
    assert.equal(logs.find(/not valid were skipped/)[0]?.skipped, 3);
  });

  test('a file over the read limit: only its last part is read, and that is said', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'analyses-'));
    const file = path.join(dir, 'analysis.jsonl');
    const lines = Array.from({ length: 2000 }, (_, i) => line(`song-${i}`, -10 - (i % 20)));
    writeFileSync(file, lines.join(''));
    const logs = captureLogs('info');
    const store = new AnalysisStore(file, logs.logger, 20_000);
    await store.load();
    assert.equal(store.get('song-0'), undefined, 'the oldest entries were left out');
    assert.equal(store.get('song-1999')?.integratedLufs, -10 - (1999 % 20));
    const cut = logs.find(/larger than is read/)[0];
    assert.ok(cut && Number(cut.skippedBytes) > 0);
    assert.equal(logs.find(/not valid were skipped/).length, 0, 'the line cut at the start is not counted as invalid');
  });
});
