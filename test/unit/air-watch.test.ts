/** The checks each tick makes about the air besides the audio: an empty mix and dead air. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import { AirWatch, IDLE_AFTER_MS, type AirWatchOptions } from '../../src/playout/air-watch.js';
import { DeadAirWatch } from '../../src/playout/dead-air.js';
import { LiveShows } from '../../src/playout/live-shows.js';
import { OnAir } from '../../src/playout/on-air.js';

function setup(deadAirMs = 30_000) {
  let t = 0;
  const now = (): number => t;
  const mixer = { onAir: null as { label: string; info: { title: string } } | null, waiting: false };
  const live = { song: null };
  const onAir = new OnAir(20);
  const deadAir = new DeadAirWatch(deadAirMs, now);
  const events: string[] = [];
  const watch = new AirWatch({
    mixer: mixer as unknown as AirWatchOptions['mixer'],
    live: live as unknown as AirWatchOptions['live'],
    onAir,
    liveShows: new LiveShows(20, () => undefined),
    deadAir,
    encoderRunning: () => true,
    now,
    log: pino({ level: 'silent' }),
    onIdle: () => events.push('idle'),
    onDeadAir: (c) => events.push(`dead-air ${c.dead} ${c.song}`),
  });
  return { watch, mixer, onAir, deadAir, events, at: (ms: number) => (t = ms) };
}

describe('air watch', () => {
  test('a mix empty for IDLE_AFTER_MS clears now-playing once, into the history; a song in the mix resets the wait', () => {
    const { watch, mixer, onAir, events, at } = setup();
    onAir.arrive({ key: 'file:a.m4a', source: 'file', title: 'A' }, new Date().toISOString(), 0);
    watch.check();
    at(IDLE_AFTER_MS - 1);
    watch.check();
    assert.equal(onAir.nowPlaying?.title, 'A', 'not yet');
    mixer.onAir = { label: 'b', info: { title: 'B' } };
    watch.check();
    mixer.onAir = null;
    at(IDLE_AFTER_MS + 10);
    watch.check();
    assert.equal(onAir.nowPlaying?.title, 'A', 'the wait began again when the mix emptied again');
    at(2 * IDLE_AFTER_MS + 10);
    watch.check();
    watch.check();
    assert.equal(onAir.nowPlaying, null);
    assert.equal(onAir.history[0]?.title, 'A');
    assert.deepEqual(events, ['idle']);
  });

  test('dead air is said once when it starts and once when sound is back', () => {
    const { watch, mixer, deadAir, events, at } = setup(1000);
    mixer.onAir = { label: 'quiet.m4a', info: { title: 'Quiet' } };
    at(1001);
    watch.check();
    watch.check();
    at(1500);
    deadAir.heard();
    watch.check();
    assert.deepEqual(events, ['dead-air true Quiet', 'dead-air false Quiet']);
  });
});
