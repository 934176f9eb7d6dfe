/**
 * Listener figures on a fake clock: a point a minute (built-in and
 * Icecast), 24 hours kept, the peak, the file that keeps them across a
 * restart, and Icecast's status page read as Icecast 2.4 writes it.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { ListenerStats, parseIcecastStatus, STEP_MS } from '../../src/outputs/listener-stats.js';
import type { OutputSet } from '../../src/outputs/output-set.js';
import type { Station } from '../../src/playout/station.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/station.js';

const target = { server: 'ice:8000', host: 'ice', port: 8000, user: 'source', password: 'x' };

function rig(file: string | null, clock: FakeClock) {
  const hub = { count: 0 };
  const channel = { id: 'jazz', playlist: { mount: '/jazz.mp3' } };
  const station = { channels: [channel] } as unknown as Station;
  const outputs = { of: () => ({ hub }) } as unknown as OutputSet;
  const icecast = { counts: new Map([['/jazz.mp3', 0]]), fail: false };
  const stats = new ListenerStats({
    station,
    outputs,
    icecast: [target],
    file,
    logger: pino({ level: 'silent' }),
    // Minutes are taken by hand here (sample()), so the test awaits each one.
    timers: { every: () => () => undefined, after: () => () => undefined },
    now: () => clock.date().getTime(),
    readIcecast: async () => {
      if (icecast.fail) throw new Error('ECONNREFUSED');
      return new Map(icecast.counts);
    },
  });
  return { stats, hub, icecast };
}

describe('listener figures', () => {
  test('a point a minute, built-in and Icecast apart; 24 hours kept; peak and now; a failed Icecast read counts none', async () => {
    const clock = new FakeClock();
    const { stats, hub, icecast } = rig(null, clock);
    hub.count = 2;
    icecast.counts.set('/jazz.mp3', 5);
    await stats.start();
    for (let i = 1; i <= 3; i++) {
      hub.count = i;
      clock.advance(STEP_MS);
      await stats.sample();
    }
    const now = stats.of('jazz', '/jazz.mp3', 4);
    assert.deepEqual(
      now.points.map((p) => [p[1], p[2]]),
      [
        [2, 5],
        [1, 5],
        [2, 5],
        [3, 5],
      ],
    );
    assert.deepEqual([now.current, now.builtin, now.icecast, now.peak24h], [9, 4, 5, 9]);
    icecast.fail = true;
    await stats.sample();
    assert.equal(stats.icecastNow('/jazz.mp3'), 0);
    assert.equal(stats.icecastAt(0, '/jazz.mp3'), 0);
    clock.advance(24 * 3_600_000 - 2 * STEP_MS);
    assert.deepEqual(
      stats.of('jazz', '/jazz.mp3', 0).points.map((p) => p[1]),
      [2, 3, 3],
      'points older than 24 h are gone (the first two)',
    );
    assert.equal(stats.of('jazz', '/jazz.mp3', 0).peak24h, 8, 'the peak is the last 24 hours’');
    stats.close();
  });

  test('kept in a file across a restart; a damaged file is set aside, not fatal', async () => {
    const file = path.join(tempDir('listeners'), 'listeners.json');
    const clock = new FakeClock();
    const first = rig(file, clock);
    first.hub.count = 7;
    await first.stats.start();
    first.stats.close();
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).version, 1);
    clock.advance(STEP_MS);
    const second = rig(file, clock);
    await second.stats.start();
    assert.deepEqual(
      second.stats.of('jazz', '/jazz.mp3', 0).points.map((p) => p[1]),
      [7, 0],
      "yesterday's curve survives the restart",
    );
    second.stats.close();
    writeFileSync(file, '{"version":1,"channels":{"jazz":[["x"]]}}');
    const third = rig(file, clock);
    await third.stats.start();
    assert.equal(third.stats.of('jazz', '/jazz.mp3', 0).points.length, 1);
    third.stats.close();
  });

  test("Icecast's status page: one source is an object, several an array; mounts from listen URLs; garbage is none", () => {
    // As Icecast 2.4.4 wrote it on this machine, one source with a quote in its name and a space in its mount.
    const real =
      '{"icestats":{"admin":"admin@localhost","host":"127.0.0.1","location":"sCast","server_id":"Icecast 2.4.4","server_start":"Sun, 06 Dec 2026 00:52:04 +0000","server_start_iso8601":"2026-12-06T00:52:04+0000","source":{"genre":"various","listener_peak":1,"listeners":1,"listenurl":"http://127.0.0.1:46451/a b.mp3","server_description":"Unspecified description","server_name":"Quote \\"x\\" \\\\ test","server_type":"audio/mpeg","stream_start":"Sun, 06 Dec 2026 00:52:05 +0000","stream_start_iso8601":"2026-12-06T00:52:05+0000","dummy":null}}}';
    assert.deepEqual([...parseIcecastStatus(JSON.parse(real))], [['/a b.mp3', 1]]);
    assert.deepEqual([...parseIcecastStatus({ icestats: { source: { listenurl: 'http://127.0.0.1:8000/a b.mp3', listeners: 3 } } })], [['/a b.mp3', 3]]);
    assert.deepEqual(
      [
        ...parseIcecastStatus({
          icestats: {
            source: [{ listenurl: 'http://h:8000/jazz.mp3', listeners: 1 }, { listenurl: 'http://h:8000/%E7%88%B5.mp3', listeners: 2 }, { listeners: 9 }],
          },
        }),
      ],
      [
        ['/jazz.mp3', 1],
        ['/爵.mp3', 2],
      ],
    );
    for (const junk of [null, 'x', { icestats: {} }, { icestats: { source: 'x' } }, { icestats: { source: [{ listenurl: ':::', listeners: 1 }] } }])
      assert.equal(parseIcecastStatus(junk).size, 0, JSON.stringify(junk));
  });
});
