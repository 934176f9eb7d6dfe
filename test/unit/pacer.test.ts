import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Pacer, ticksFor } from '../../src/playout/pacer.js';

const SR = 44100;
const FRAME = 1152;
const FRAME_MS = (FRAME / SR) * 1000;

function setup(leadMs = 0) {
  let now = 1000;
  const sent: Buffer[] = [];
  const events: string[] = [];
  const silent = Buffer.from('S');
  const pacer = new Pacer<string>({
    sampleRate: SR,
    leadMs,
    now: () => now,
    silentFrame: silent,
    silentFrameSamples: FRAME,
    emit: (d) => {
      sent.push(d);
      events.push(`audio:${d.toString()}`);
    },
    onMarker: (m) => events.push(`marker:${m}`),
  });
  return {
    pacer,
    sent,
    events,
    advance(ms: number) {
      now += ms;
      pacer.tick();
    },
    feed(n: number, label = 'A') {
      for (let i = 0; i < n; i++) pacer.push({ data: Buffer.from(label), samples: FRAME });
    },
  };
}

describe('pacer', () => {
  test('releases frames at real-time rate from their durations', () => {
    const t = setup();
    t.feed(10_000);
    t.pacer.start();
    t.advance(1000);
    // 1 s is 38.28 frames: all due frames, no more.
    assert.equal(Buffer.concat(t.sent).length, Math.ceil(1000 / FRAME_MS));
  });

  test('frames pushed while short of the lead go out at once, not at the next tick; never beyond the lead', () => {
    const t = setup(100);
    t.pacer.start();
    t.pacer.tick(); // nothing to send yet: a new channel before its encoder's first frame
    assert.equal(t.sent.length, 0);
    t.feed(1);
    assert.equal(Buffer.concat(t.sent).length, 1, 'sent without waiting for a tick');
    t.feed(20);
    // The lead is 100 ms: frames up to it (3.8 frames) went out, the rest waits for real time.
    assert.equal(Buffer.concat(t.sent).length, Math.ceil(100 / FRAME_MS));
    const before = t.sent.length;
    t.feed(1);
    assert.equal(t.sent.length, before, 'with the lead covered, a push waits for the tick');
  });

  test('uneven timer wake-ups do not drift: error stays under one frame over 10 simulated minutes', () => {
    const t = setup();
    t.feed(Math.ceil((600_000 / FRAME_MS) * 1.01));
    t.pacer.start();
    let elapsed = 0;
    let worst = 0;
    let seed = 7;
    while (elapsed < 600_000) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const step = 1 + (seed % 97); // 1..97 ms, irregular
      elapsed += step;
      t.advance(step);
      worst = Math.max(worst, Math.abs(t.pacer.aheadSeconds * 1000));
    }
    assert.ok(worst <= FRAME_MS, `worst error ${worst} ms`);
    assert.ok(Math.abs(t.pacer.aheadSeconds) * 1000 <= FRAME_MS);
  });

  test('keeps at most `lead` ahead of real time', () => {
    const t = setup(400);
    t.feed(1000);
    t.pacer.start();
    t.pacer.tick();
    const ahead = t.pacer.aheadSeconds * 1000;
    assert.ok(ahead >= 400 && ahead < 400 + FRAME_MS, `ahead ${ahead} ms`);
    t.advance(5000);
    assert.ok(t.pacer.aheadSeconds * 1000 < 400 + FRAME_MS);
  });

  test('sends silent frames when nothing is ready, never falling behind', () => {
    const t = setup(400);
    t.pacer.start();
    t.advance(1000);
    const text = Buffer.concat(t.sent).toString();
    assert.match(text, /^S+$/);
    assert.equal(text.length, Math.ceil(1000 / FRAME_MS));
    assert.ok(t.pacer.aheadSeconds >= 0 && t.pacer.aheadSeconds * 1000 < FRAME_MS);
    assert.equal(t.pacer.sourceSamplesSent, 0);
    t.feed(100);
    t.advance(100);
    assert.match(Buffer.concat(t.sent).toString(), /^S+A+$/, 'real frames resume at once');
  });

  test('a marker is announced right before its frame, between the frames around it', () => {
    const t = setup();
    t.feed(2, 'A');
    t.pacer.push({ data: Buffer.from('B'), samples: FRAME, marker: 'song B' });
    t.feed(2, 'B');
    t.pacer.start();
    t.advance(120); // 4.6 frames due: exactly the 5 queued go out
    assert.deepEqual(t.events, ['audio:AA', 'marker:song B', 'audio:BBB']);
  });

  test('clearQueue drops frames not yet sent', () => {
    const t = setup();
    t.feed(100);
    t.pacer.start();
    t.pacer.clearQueue();
    t.advance(100);
    assert.match(Buffer.concat(t.sent).toString(), /^S+$/);
  });
});

describe('the channel tick', () => {
  test('live: at most 100 ms; calm: at most 250; the lead covers two of either', () => {
    assert.deepEqual(ticksFor(500), { live: 100, calm: 250 });
    assert.deepEqual(ticksFor(2000), { live: 100, calm: 250 });
    assert.deepEqual(ticksFor(300), { live: 100, calm: 150 });
    assert.deepEqual(ticksFor(250), { live: 100, calm: 125 });
    assert.deepEqual(ticksFor(120), { live: 60, calm: 60 });
    assert.deepEqual(ticksFor(0), { live: 20, calm: 20 });
  });
});
