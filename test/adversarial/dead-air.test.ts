/**
 * Dead air that looks healthy: a song of pure silence (a hostile upload, a
 * broken master) and a list whose every song fails both keep the stream up at
 * full rate. The operator must be told: a warn line naming the song, /health
 * degraded, a metric, and the feed's status event; and told again when
 * sound is back.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import { listen } from '../helpers/listener.js';
import { makeTone } from '../helpers/media.js';
import { until } from '../helpers/ports.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

describe('adversarial: dead air that looks healthy', { timeout: 60_000 }, () => {
  test('a silent song is reported as dead air everywhere, and the end of it too', async () => {
    const dir = tempDir('deadair');
    execFileSync('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'anullsrc=r=44100:cl=stereo',
      '-t',
      '6',
      '-metadata',
      'title=Quiet Upload',
      '-c:a',
      'aac',
      path.join(dir, 'silent.m4a'),
    ]);
    await makeTone({ file: path.join(dir, 'loud.m4a'), freq: 440, seconds: 3, args: ['-c:a', 'aac'], title: 'Loud' });
    writePlaylist(dir, 'd', {
      name: 'D',
      mount: '/d.mp3',
      tracks: [
        { source: 'file', path: 'silent.m4a' },
        { source: 'file', path: 'loud.m4a' },
      ],
    });
    const station = await runStation({ PLAYLISTS_DIR: dir, DEAD_AIR_SECONDS: '2' });
    const events: { event: string; song?: string | null; at: number }[] = [];
    const ws = new WebSocket(`${station.url.replace('http', 'ws')}/ws?channel=d`);
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as { type: string; event?: string; song?: string | null };
      if (m.type === 'status' && m.event) events.push({ event: m.event, song: m.song, at: Date.now() });
    });
    const listener = await listen(`${station.url}/d.mp3`);
    try {
      const dead = await until('dead-air event', () => events.find((e) => e.event === 'dead-air'), 15_000);
      assert.equal(dead.song, 'Quiet Upload', 'the feed names the song');
      const warn = station.logs.find(/^dead air/)[0]!;
      assert.equal(warn.level, 40, 'a warning');
      assert.match(String(warn.song), /silent\.m4a/);
      assert.match(String(warn.msg), /the song on air is silent/);
      const health = await fetch(`${station.url}/health`);
      assert.equal(health.status, 503);
      const body = (await health.json()) as { status: string; channels: { deadAirSeconds: number }[] };
      assert.equal(body.status, 'degraded');
      assert.ok(body.channels[0]!.deadAirSeconds >= 2);
      assert.match(await (await fetch(`${station.url}/metrics`)).text(), /^scast_dead_air_seconds\{channel="d"\} [2-9]/m);
      assert.equal(listener.closed, false, 'the stream itself never stopped');
      // The loud song brings it back.
      const back = await until('audio-back event', () => events.find((e) => e.event === 'audio-back'), 15_000);
      assert.equal(back.song, 'Loud');
      assert.equal((await fetch(`${station.url}/health`)).status, 200);
      assert.ok(station.logs.find(/dead air over/).length >= 1);
    } finally {
      ws.close();
      listener.close();
      await station.close();
    }
  });

  test('a list whose every song fails is dead air with "no song ready"', async () => {
    const dir = tempDir('deadair-broken');
    writePlaylist(dir, 'b', { name: 'B', mount: '/b.mp3', tracks: [{ source: 'file', path: 'missing.m4a' }] });
    const station = await runStation({ PLAYLISTS_DIR: dir, DEAD_AIR_SECONDS: '1' });
    try {
      const warn = await station.logs.when('dead air warning', () => station.logs.find(/^dead air/)[0], 10_000);
      assert.match(String(warn.msg), /no song is ready/);
      assert.equal((await fetch(`${station.url}/health`)).status, 503);
    } finally {
      await station.close();
    }
  });
});
