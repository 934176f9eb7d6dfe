import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { startIcecast } from '../helpers/icecast.js';
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
    const station = await runStation({ PLAYLISTS_DIR: dir, ICECAST_URL: ice.sourceUrl, ICECAST_ADMIN_USER: 'admin', ICECAST_ADMIN_PASSWORD: ice.adminPassword, CONTROL_TOKEN: CONTROL });
    try {
      const listener = await listen(`${station.url}/m.mp3`);
      await until('two songs played', () => ((station.station.channel('m')?.songsPlayed ?? 0) >= 2 ? true : undefined), 10_000);
      await until('streaming', () => (station.outputs.of(station.station.channel('m')!)?.icecast[0]?.client.status === 'streaming' ? true : undefined));
      const res = await fetch(`${station.url}/metrics`);
      assert.equal(res.status, 200);
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

  test('two streamers with the same playlist: the second sees the mount taken, stands by, and takes over within seconds', async () => {
    const ice = await startIcecast();
    const dir = tempDir('spare');
    await makeTone({ file: path.join(dir, 'a.m4a'), freq: 440, seconds: 3, args: ['-c:a', 'aac'] });
    writePlaylist(dir, 'live', { name: 'Live', mount: '/live.mp3', tracks: [{ source: 'file', path: 'a.m4a', title: 'Tone' }] });
    const env = { PLAYLISTS_DIR: dir, ICECAST_URL: ice.sourceUrl, ICECAST_ADMIN_USER: 'admin', ICECAST_ADMIN_PASSWORD: ice.adminPassword };
    const first = await runStation(env);
    await until('first on air', () => (first.outputs.of(first.station.channels[0]!)?.icecast[0]?.client.status === 'streaming' ? true : undefined));
    const second = await runStation(env);
    try {
      const busy = await until('second sees the mount taken', () => second.logs.lines.find((l) => (l.err as { code?: string } | undefined)?.code === 'SCAST_ICECAST_MOUNT_BUSY'));
      assert.match(String(busy.msg), /\/live\.mp3.*in use by another source/);
      const spare = second.outputs.of(second.station.channels[0]!)!.icecast[0]!.client;
      assert.notEqual(spare.status, 'streaming');
      const listener = await listen(`${ice.url}/live.mp3`);
      const t0 = Date.now();
      await first.close();
      await until('the spare takes over', () => (spare.status === 'streaming' ? true : undefined), 10_000, 10);
      const takeover = Date.now() - t0;
      console.log(`# hot spare on air ${takeover} ms after the first streamer stopped`);
      assert.ok(takeover < 3000, `took ${takeover} ms`);
      const again = await listen(`${ice.url}/live.mp3`);
      await until('audio from the spare', () => (again.bytes > 32_000 ? true : undefined), 10_000);
      again.close();
      listener.close();
    } finally {
      await first.close();
      await second.close();
      await ice.stop();
    }
  });
});
