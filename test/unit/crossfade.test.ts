import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { fadeGain } from '../../src/audio/mix.js';
import { Crossfade, SEAM_WAIT_MS, SKIP_FADE_SECONDS } from '../../src/playout/operators/crossfade.js';
import { FakeSource, fakeSong } from '../helpers/fake-songs.js';

const SR = 44100;
const log = pino({ level: 'silent' });

function setup(seconds: number, songs: ReturnType<typeof fakeSong>[], clock = { t: 0 }, grid?: number) {
  const source = new FakeSource(songs);
  const cf = new Crossfade(source, { seconds: () => seconds, log, now: () => clock.t, stallMs: 5000, grid });
  return { source, cf, clock };
}

/** Read in chunks of `chunk` frames until `max` frames or the mixer gives none; left channel and marks (absolute frames). */
function drain(cf: Crossfade, max: number, chunk = 4410, streamAt?: number): { left: Float32Array; marks: { frame: number; key: string }[] } {
  const left = new Float32Array(max);
  const marks: { frame: number; key: string }[] = [];
  let at = 0;
  while (at < max) {
    const want = Math.min(chunk, max - at);
    const out = new Float32Array(want * 2);
    const r = cf.read(out, want, streamAt === undefined ? undefined : streamAt + at);
    for (let i = 0; i < r.frames; i++) {
      left[at + i] = out[2 * i]!;
      assert.equal(out[2 * i + 1], out[2 * i], 'both channels mixed alike');
    }
    for (const m of r.marks) marks.push({ frame: at + m.frame, key: m.song.info.key });
    at += r.frames;
    if (r.frames === 0) break;
  }
  return { left: left.subarray(0, at), marks };
}

describe('crossfade mixer', () => {
  test('crossfade 0: songs back to back, sample for sample, each title at its first sample', () => {
    const a = fakeSong(10_000, (i) => (i % 100) + 1);
    const b = fakeSong(7_000, 2000);
    const { cf, source } = setup(0, [a, b]);
    const { left, marks } = drain(cf, 50_000, 3333);
    assert.equal(left.length, 17_000);
    for (let i = 0; i < 10_000; i++) assert.equal(left[i], (i % 100) + 1);
    for (let i = 10_000; i < 17_000; i++) assert.equal(left[i], 2000);
    assert.deepEqual(marks, [
      { frame: 0, key: a.info.key },
      { frame: 10_000, key: b.info.key },
    ]);
    assert.deepEqual(
      source.ends.map((e) => e.end.how),
      ['ended', 'ended'],
    );
  });

  test('crossfade N: the songs overlap N s on equal-power curves, the title goes up mid-overlap', () => {
    const a = fakeSong(3 * SR, 10_000);
    const b = fakeSong(3 * SR, 10_000);
    const { cf } = setup(1, [a, b]);
    const { left, marks } = drain(cf, 10 * SR);
    const O = SR;
    assert.equal(left.length, 6 * SR - O, 'total = both songs minus one overlap');
    const join = 2 * SR;
    assert.equal(left[join - 1], 10_000, 'full level up to the overlap');
    for (const k of [0, 1, 100, O / 4, O / 2, O - 1]) {
      const t = (k + 0.5) / O;
      const expected = Math.fround(10_000 * fadeGain('out', t) + 10_000 * fadeGain('in', t));
      assert.ok(Math.abs(left[join + k]! - expected) < 0.01, `frame ${k} of the overlap: ${left[join + k]} vs ${expected}`);
    }
    assert.equal(left[join + O], 10_000, 'full level after');
    assert.deepEqual(marks[1], { frame: join + O / 2, key: b.info.key });
    // Power stays constant: out^2 + in^2 = 1 at every point of the curves.
    for (let t = 0; t <= 1; t += 0.05) assert.ok(Math.abs(fadeGain('out', t) ** 2 + fadeGain('in', t) ** 2 - 1) < 1e-12);
  });

  test('a song shorter than twice the crossfade still plays whole: the overlap is at most half of it', () => {
    const a = fakeSong(4 * SR, 1000);
    const b = fakeSong(SR, (i) => (i === SR / 2 ? 30_000 : 1000)); // 1 s, crossfade 3 s, a marker sample in its middle
    const c = fakeSong(4 * SR, 1000);
    const { cf, source } = setup(3, [a, b, c]);
    const { left } = drain(cf, 20 * SR);
    // a->b overlaps 0.5 s (half of b), b->c 0.5 s: b's middle sample plays at full level.
    assert.equal(left.length, 4 * SR + SR + 4 * SR - SR / 2 - SR / 2);
    const bStart = 4 * SR - SR / 2;
    assert.ok(Math.abs(left[bStart + SR / 2]! - 30_000) < 1, `b's middle: ${left[bStart + SR / 2]}`);
    assert.deepEqual(
      source.ends.map((e) => e.end.how),
      ['ended', 'ended', 'ended'],
    );
  });

  test('each song has its own gain, fade-in and fade-out', () => {
    const a = fakeSong(SR, 10_000, { track: { fadeIn: 0.1, fadeOut: 0.2 }, gainDb: -6.0206 });
    const b = fakeSong(SR, 10_000);
    const { cf } = setup(0, [a, b]);
    const { left } = drain(cf, 3 * SR);
    assert.equal(left.length, 2 * SR);
    const fi = 0.1 * SR;
    const fo = 0.2 * SR;
    assert.ok(Math.abs(left[0]! - 5000 * fadeGain('in', 0.5 / fi)) < 0.01);
    assert.ok(Math.abs(left[fi / 2]! - 5000 * fadeGain('in', (fi / 2 + 0.5) / fi)) < 0.01);
    assert.ok(Math.abs(left[SR / 2]! - 5000) < 0.01, 'half level (-6 dB) mid-song');
    assert.ok(Math.abs(left[SR - fo + fo / 2]! - 5000 * fadeGain('out', (fo / 2 + 0.5) / fo)) < 0.01);
    assert.ok(left[SR - 1]! < 50, 'faded out at its end');
    assert.equal(left[SR], 10_000, 'the next at full level at once (no crossfade)');
  });

  test('a skip fades the song out over about 0.5 s while the next fades in', () => {
    const a = fakeSong(10 * SR, 10_000);
    const b = fakeSong(10 * SR, 10_000);
    const { cf, source } = setup(0, [a, b]);
    const first = drain(cf, SR);
    assert.equal(first.left.length, SR);
    assert.equal(cf.skip()?.info.key, a.info.key);
    const { left, marks } = drain(cf, 2 * SR);
    const F = Math.round(SKIP_FADE_SECONDS * SR);
    for (const k of [0, F / 2, F - 1]) {
      const t = (k + 0.5) / F;
      assert.ok(Math.abs(left[k]! - 10_000 * (fadeGain('out', t) + fadeGain('in', t))) < 0.01, `frame ${k}`);
    }
    assert.equal(left[F], 10_000);
    assert.deepEqual(marks, [{ frame: 0, key: b.info.key }], 'the title of the song asked for goes up as it begins');
    assert.deepEqual(source.ends[0]?.end, { how: 'stopped' });
    assert.equal(a.feed.pos, SR + F, 'a was read only as far as its fade');
  });

  test('a skip with nothing ready plays the fade, then gives nothing (the channel fills in silence)', () => {
    const a = fakeSong(10 * SR, 10_000);
    const { cf, source } = setup(0, [a]);
    drain(cf, SR);
    cf.skip();
    const { left } = drain(cf, 2 * SR);
    assert.equal(left.length, Math.round(SKIP_FADE_SECONDS * SR));
    assert.equal(source.ends.length, 1);
  });

  test('on a grid, songs start on it: the first after up to a frame of silence, the next by moving the crossfade under half a frame', () => {
    const a = fakeSong(3 * SR, 0);
    const b = fakeSong(3 * SR, 10_000);
    const { cf } = setup(1, [a, b], { t: 0 }, 1152);
    const base = 500;
    const { left } = drain(cf, 10 * SR, 4410, base);
    const aStart = 1152 - base;
    assert.equal(left[aStart - 1], 0);
    // Fades are sampled mid-frame: b's first frame is already audible.
    const bStart = left.findIndex((v) => v !== 0);
    assert.equal((base + bStart) % 1152, 0, `b starts on the grid (at ${base + bStart})`);
    const overlap = aStart + 3 * SR - bStart;
    assert.ok(Math.abs(overlap - SR) <= 576, `overlap ${overlap} frames, want ${SR} ± 576`);
    assert.equal(left.length, bStart + 3 * SR, 'b plays whole');
  });

  test('on a grid, a gapless seam stays exact', () => {
    const a = fakeSong(SR + 77, 1);
    const b = fakeSong(SR, 2);
    const { cf } = setup(0, [a, b], { t: 0 }, 1152);
    const { left } = drain(cf, 3 * SR, 4410, 0);
    assert.equal(left.length, 2 * SR + 77);
    assert.equal(left[SR + 76], 1);
    assert.equal(left[SR + 77], 2, 'b right after a, off the grid');
  });

  test('when the next song is not ready at the join, the song on air plays to its end and the next follows as soon as it can', () => {
    const a = fakeSong(2 * SR, 10_000);
    const b = fakeSong(2 * SR, 5000, { produced: 0 });
    const { cf } = setup(1, [a, b]);
    const first = drain(cf, 4 * SR);
    assert.equal(first.left.length, 2 * SR, 'a whole, undimmed');
    assert.equal(first.left[2 * SR - 1], 10_000);
    b.feed.produced = 2 * SR;
    const second = drain(cf, 4 * SR);
    assert.equal(second.left.length, 2 * SR);
    assert.equal(second.left[0], 5000, 'no fade-in: it did not overlap anything');
  });

  test('a crossfade cut short by a late decoder is logged, with which one was late', () => {
    const lines: { msg: string; gotMs: number; wantMs: number }[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l) as (typeof lines)[number]) });
    const shortened = (lead: ReturnType<typeof fakeSong>, next: ReturnType<typeof fakeSong>, release: () => void) => {
      lines.length = 0;
      const cf = new Crossfade(new FakeSource([lead, next]), { seconds: () => 1, log: logger, now: () => 0 });
      drain(cf, 2.4 * SR, 2205); // 0.4 s into where the 1 s overlap should have begun
      release();
      drain(cf, 2 * SR, 2205);
      return lines.filter((l) => /crossfade shortened/.test(l.msg));
    };
    // The next song's decoder gives nothing until 0.4 s into the overlap: 0.6 s of it are left.
    const b = fakeSong(3 * SR, 5000, { produced: 0 });
    const late = shortened(fakeSong(3 * SR, 10_000), b, () => (b.feed.produced = 3 * SR));
    assert.equal(late.length, 1);
    assert.match(late[0]!.msg, /next song had no audio in time/);
    assert.equal(late[0]!.wantMs, 1000);
    assert.ok(Math.abs(late[0]!.gotMs - 600) <= 50, `${late[0]!.gotMs} ms of overlap left`);
    // The song on air decoded only 2.5 s of 3 until then: its end is learned late.
    const a = fakeSong(3 * SR, 10_000, { produced: 2.5 * SR });
    const slow = shortened(a, fakeSong(3 * SR, 5000), () => (a.feed.produced = 3 * SR));
    assert.equal(slow.length, 1);
    assert.match(slow[0]!.msg, /decoded too late to know its end/);
    // On time, nothing is said.
    assert.equal(shortened(fakeSong(3 * SR, 10_000), fakeSong(3 * SR, 5000), () => {}).length, 0);
  });

  test('with queue to spare, a seam whose audio is late is waited for (up to SEAM_WAIT_MS), not cut short', () => {
    const lines: { msg: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l) as { msg: string }) });
    const read = (cf: Crossfade, want: number): number => cf.read(new Float32Array(want * 2), want, undefined, true).frames;
    const run = (late: (b: ReturnType<typeof fakeSong>, cf: Crossfade) => number, clock: { t: number }) => {
      lines.length = 0;
      const b = fakeSong(3 * SR, 5000, { produced: 0 });
      const cf = new Crossfade(new FakeSource([fakeSong(3 * SR, 10_000), b]), { seconds: () => 1, log: logger, now: () => clock.t });
      let total = 0;
      for (let n; (n = read(cf, 4410)) > 0;) total += n;
      const held = total;
      total += late(b, cf);
      for (let n; (n = read(cf, 4410)) > 0;) total += n;
      return { held, total, shortened: lines.filter((l) => /crossfade shortened/.test(l.msg)).length };
    };
    // Its audio arrives 200 ms later: the mix held exactly where the overlap begins, then the full second of it, 3 + 3 - 1 s in all.
    const clock = { t: 0 };
    const waited = run((b) => {
      clock.t += 200;
      b.feed.produced = 3 * SR;
      return 0;
    }, clock);
    assert.equal(waited.held, 2 * SR, 'held where the overlap begins');
    assert.equal(waited.total, 5 * SR);
    assert.equal(waited.shortened, 0);
    // Still nothing after SEAM_WAIT_MS: the song on air plays on; audio 0.4 s later makes a crossfade cut short, and said to be.
    const clock2 = { t: 0 };
    const gaveUp = run((b, cf) => {
      clock2.t += SEAM_WAIT_MS;
      const on = read(cf, 0.4 * SR);
      b.feed.produced = 3 * SR;
      return on;
    }, clock2);
    assert.equal(gaveUp.total, 5 * SR + 0.4 * SR, 'a played on 0.4 s into the overlap');
    assert.equal(gaveUp.shortened, 1);
    // The song on air decoded only 2.5 s of 3: held 0.1 s before where its fade should begin, until its end is known.
    const a = fakeSong(3 * SR, 10_000, { produced: 2.5 * SR });
    const cf = new Crossfade(new FakeSource([a, fakeSong(3 * SR, 5000)]), { seconds: () => 1, log: logger, now: () => 0 });
    let total = 0;
    for (let n; (n = read(cf, 4410)) > 0;) total += n;
    assert.equal(total, 1.9 * SR);
    a.feed.produced = 3 * SR;
    lines.length = 0;
    for (let n; (n = read(cf, 4410)) > 0;) total += n;
    assert.equal(total, 5 * SR, 'the whole second of overlap');
    assert.equal(lines.filter((l) => /crossfade shortened/.test(l.msg)).length, 0);
  });

  test('a song with no audio at all fails with its reason and the next plays; a stalled one is given up after the stall time', () => {
    const clock = { t: 0 };
    const broken = fakeSong(SR, 1, { produced: 0 });
    broken.feed.abandon('no audio stream');
    const stalls = fakeSong(10 * SR, 3000, { produced: SR });
    const after = fakeSong(SR, 7000);
    const { cf, source } = setup(0, [broken, stalls, after], clock);
    const first = drain(cf, 5 * SR);
    assert.equal(first.left.length, SR, 'the stalling song gave what it had');
    assert.equal(first.left[0], 3000);
    clock.t = 5001;
    const second = drain(cf, 5 * SR);
    assert.equal(second.left[0], 7000, 'the next song follows the stalled one');
    assert.equal(source.ends[0]?.end.how, 'failed');
    assert.match((source.ends[0]?.end as { error: Error }).error.message, /no audio stream/);
    assert.equal(source.ends[1]?.end.how, 'ended');
    assert.match(stalls.feed.error?.message ?? '', /no progress for 5 s/);
  });

  test('the same output however the reads are cut, and whatever partial frames the pipes hold', () => {
    const make = () => [
      fakeSong(30_000, (i) => (i * 7) % 20_000),
      fakeSong(50_000, (i) => ((i * 13) % 20_000) - 10_000, { produced: 0, partialBytes: 3 }),
      fakeSong(20_000, 1234),
    ];
    // The second song arrives bit by bit, a little ahead of the air, always with a partial frame pending (as a pipe has).
    const trickle = (songs: ReturnType<typeof make>) => {
      const feed = songs[1]!.feed;
      return (played: number) => {
        feed.produced = Math.min(feed.total, Math.max(feed.produced, played < 7000 ? 8000 : feed.pos < 20_000 ? feed.pos + 1000 : feed.total));
      };
    };
    const run = (chunk: number) => {
      const songs = make();
      const more = trickle(songs);
      const { cf } = setup(0.5, songs);
      const left: number[] = [];
      const marks: number[] = [];
      for (let guard = 0; left.length < 80_000 && guard < 10_000; guard++) {
        more(left.length);
        const out = new Float32Array(chunk * 2);
        const r = cf.read(out, chunk);
        assert.ok(Number.isInteger(r.frames), `whole frames: ${r.frames}`);
        for (const m of r.marks) marks.push(left.length + m.frame);
        for (let i = 0; i < r.frames; i++) left.push(out[2 * i]!);
      }
      return { left, marks };
    };
    const whole = run(4410);
    const pieces = run(97);
    assert.deepEqual(pieces.left.slice(0, 60_000), whole.left.slice(0, 60_000));
    assert.deepEqual(pieces.marks, whole.marks);
    assert.equal(whole.marks.length, 3);
  });

  test('the same output however the reads are cut', () => {
    const make = () => [fakeSong(30_000, (i) => (i * 7) % 20_000), fakeSong(50_000, (i) => ((i * 13) % 20_000) - 10_000), fakeSong(20_000, 1234)];
    const whole = drain(setup(0.5, make()).cf, 200_000, 200_000);
    const pieces = drain(setup(0.5, make()).cf, 200_000, 97);
    assert.deepEqual(pieces.left, whole.left);
    assert.deepEqual(
      pieces.marks.map((m) => m.frame),
      whole.marks.map((m) => m.frame),
    );
  });
});
