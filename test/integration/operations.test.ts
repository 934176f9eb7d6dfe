import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, mock, test } from 'node:test';
import perfHooks from 'node:perf_hooks';
import WebSocket from 'ws';
import { startIcecast } from '../helpers/icecast.js';
import { startStationProcess, type StationProcess } from '../helpers/station-process.js';
import { listen } from '../helpers/listener.js';
import { makeTone } from '../helpers/media.js';
import { until } from '../helpers/ports.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

const CONTROL = 'control-secret-0123456789abc';

describe("operator's view and a hot spare", { timeout: 120_000 }, () => {
  test('/metrics in Prometheus format reflects the station; no secret appears in metrics, health, API or logs', async () => {
    const ice = await startIcecast();
    const dir = tempDir('metrics');
    await makeTone({ file: path.join(dir, 'a.m4a'), freq: 440, seconds: 1.5, args: ['-c:a', 'aac'] });
    writePlaylist(dir, 'm', { name: 'M', mount: '/m.mp3', tracks: [{ source: 'file', path: 'a.m4a', title: 'Tone' }] });
    const station = await runStation({
      PLAYLISTS_DIR: dir,
      ICECAST_URL: ice.sourceUrl,
      ICECAST_ADMIN_USER: 'admin',
      ICECAST_ADMIN_PASSWORD: ice.adminPassword,
      CONTROL_TOKEN: CONTROL,
    });
    try {
      const listener = await listen(`${station.url}/m.mp3`);
      await until('two songs played', () => ((station.station.channel('m')?.songsPlayed ?? 0) >= 2 ? true : undefined), 10_000);
      await until('streaming', () => (station.outputs.of(station.station.channel('m')!)?.icecast[0]?.client.state === 'streaming' ? true : undefined));
      // The first scrape starts prom-client's event-loop delay monitor: a timer that wakes the station every `resolution` ms from then on.
      const monitor = mock.method(perfHooks, 'monitorEventLoopDelay');
      const res = await fetch(`${station.url}/metrics`);
      assert.equal(res.status, 200);
      const sampledEvery = monitor.mock.calls.map((c) => c.arguments[0]?.resolution);
      monitor.mock.restore();
      assert.ok(
        sampledEvery.length > 0 && sampledEvery.every((ms) => ms !== undefined && ms >= 1000),
        `event-loop delay sampled every ${sampledEvery.join(', ')} ms`,
      );
      assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
      const text = await res.text();
      const value = (re: RegExp) => Number(re.exec(text)?.[1]);
      assert.ok(value(/^scast_songs_played_total\{channel="m"\} (\d+)/m) >= 2);
      assert.ok(value(/^scast_audio_bytes_sent_total\{channel="m"\} (\d+)/m) > 16_000);
      // A healthy encoder keeps the clock fed: stand-in frames, if any, only while the station starts.
      const standIn = value(/^scast_standin_seconds_total\{channel="m"\} ([\d.e-]+)/m);
      assert.ok(standIn >= 0 && standIn < 0.5, `stand-in silence ${standIn} s`);
      assert.equal(value(/^scast_builtin_listeners\{channel="m"\} (\d+)/m), 1);
      assert.equal(value(new RegExp(`^scast_icecast_connected\\{channel="m",server="127.0.0.1:${ice.port}"\\} (\\d+)`, 'm')), 1);
      assert.match(text, /^scast_media_cache_requests_total\{result="miss"\} \d+/m);
      assert.match(text, /^scast_process_resident_memory_bytes \d+/m);
      listener.close();
      const everything = [
        text,
        await (await fetch(`${station.url}/health`)).text(),
        await (await fetch(`${station.url}/api/channels`)).text(),
        await (await fetch(`${station.url}/api/channels/m/skip`, { method: 'POST', headers: { authorization: 'Bearer wrong-wrong-wrong' } })).text(),
        JSON.stringify(station.logs.lines),
      ].join('\n');
      for (const secret of [ice.sourcePassword, ice.adminPassword, CONTROL]) assert.ok(!everything.includes(secret), 'a secret leaked');
    } finally {
      await station.close();
      await ice.stop();
    }
  });

  test('two streamers on one mount, the first killed with SIGKILL: the second says it is a spare, then takes over within a second at an Icecast listener', async () => {
    const ice = await startIcecast();
    const dir = tempDir('spare');
    await makeTone({ file: path.join(dir, 'a.m4a'), freq: 440, seconds: 30, args: ['-c:a', 'aac'], title: 'Tone' });
    writePlaylist(dir, 'live', { name: 'Live', mount: '/live.mp3', tracks: [{ source: 'file', path: 'a.m4a' }] });
    const env = { PLAYLISTS_DIR: dir, ICECAST_URL: ice.sourceUrl, ICECAST_ADMIN_USER: 'admin', ICECAST_ADMIN_PASSWORD: ice.adminPassword };
    const first = await startStationProcess({ ...env, CACHE_DIR: tempDir('spare-1') });
    let second: StationProcess | null = null;
    try {
      await until('first on air', () => first.find(/^on air$/)[0], 10_000);
      second = await startStationProcess({ ...env, CACHE_DIR: tempDir('spare-2') });
      const s = second;
      const standing = await s.when('second stands by', () => s.find(/standing by as a hot spare/)[0], 10_000);
      assert.equal(standing.level, 30);
      assert.equal(s.find(/^on air$/).length, 0, 'the spare never claims to be on air');
      const health = (await (await fetch(`${s.url}/health`)).json()) as {
        status: string;
        channels: { outputs: { kind: string; status: string; connected: boolean; lastError: string | null }[] }[];
      };
      const out = health.channels[0]!.outputs.find((o) => o.kind === 'icecast')!;
      assert.deepEqual([out.status, out.connected, out.lastError], ['spare', false, null]);
      assert.equal(health.status, 'ok', 'a spare is a healthy station');
      const ws = new WebSocket(`${s.url.replace('http', 'ws')}/ws`);
      const snapshot = await new Promise<{ channels: { outputs: { kind: string; status: string }[] }[] }>((resolve) =>
        ws.once('message', (d) => resolve(JSON.parse(String(d)) as never)),
      );
      ws.close();
      assert.equal(snapshot.channels[0]!.outputs.find((o) => o.kind === 'icecast')!.status, 'spare');
      // A crash: no clean close, the kernel closes the socket.
      const t0 = Date.now();
      first.child.kill('SIGKILL');
      // What a player does when its stream ends: connect again, until audio comes.
      let heardAt = 0;
      while (!heardAt && Date.now() - t0 < 10_000) {
        try {
          const l = await listen(`${ice.url}/live.mp3`);
          if (l.status === 200) {
            // Connected to the killed source's mount before Icecast noticed: it ends the stream, and the player connects again.
            await l.when('audio or the end', () => (l.bytes > 0 || l.closed ? true : undefined), 3000).catch(() => undefined);
            if (l.bytes > 0) heardAt = Date.now() - t0;
          }
          l.close();
        } catch {
          /* refused while the mount is down */
        }
      }
      const onAir = await s.when('the spare on air', () => s.find(/^on air$/)[0], 5000);
      console.log(`# hot spare on air ${Number(onAir.time) - t0} ms after SIGKILL of the first; a reconnecting Icecast listener has audio after ${heardAt} ms`);
      assert.ok(heardAt > 0 && heardAt < 1000, `takeover at a listener took ${heardAt} ms`);
    } finally {
      first.child.kill('SIGKILL');
      await second?.close();
      await ice.stop();
    }
  });
});
