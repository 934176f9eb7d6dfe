/**
 * What a new operator runs into in the first hour, each as they met it:
 * links that only work on the machine itself, a status event that says the
 * opposite of what happened, a browser asking for /favicon.ico.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import { startIcecast } from '../helpers/icecast.js';
import { makeTone } from '../helpers/media.js';
import { until } from '../helpers/ports.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

function get(url: string, headers: Record<string, string>): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }));
    }).on('error', reject);
  });
}

describe("the operator's first hour", { timeout: 60_000 }, () => {
  test('listen links use the host the request came in on, or PUBLIC_URL; never localhost for a remote client', async () => {
    const dir = tempDir('links');
    await makeTone({ file: path.join(dir, 'a.m4a'), freq: 440, seconds: 5, args: ['-c:a', 'aac'] });
    writePlaylist(dir, 'r', { name: 'R', mount: '/radio.mp3', tracks: [{ source: 'file', path: 'a.m4a' }] });
    const station = await runStation({ PLAYLISTS_DIR: dir, ICECAST_URL: 'http://source:pw@127.0.0.1:8000' });
    try {
      const remote = JSON.parse((await get(`${station.url}/api/channels/r`, { host: '192.168.1.20:8080' })).body) as { listen: { builtin: string; icecast: string[] } };
      assert.equal(remote.listen.builtin, 'http://192.168.1.20:8080/radio.mp3');
      assert.deepEqual(remote.listen.icecast, ['http://192.168.1.20:8000/radio.mp3'], 'an Icecast on loopback is shown on the host the client used');
      const proxied = JSON.parse((await get(`${station.url}/api/channels`, { host: 'radio.example.org', 'x-forwarded-proto': 'https' })).body) as { channels: { listen: { builtin: string } }[] };
      assert.equal(proxied.channels[0]!.listen.builtin, 'https://radio.example.org/radio.mp3');
      const forged = JSON.parse((await get(`${station.url}/api/channels/r`, { host: 'evil.example/<script>' })).body) as { listen: { builtin: string } };
      assert.equal(forged.listen.builtin, `${station.url}/radio.mp3`, 'a Host that is not a host is ignored');
      const ws = new WebSocket(`${station.url.replace('http', 'ws')}/ws`, { headers: { host: '10.1.2.3:9999' } });
      const snapshot = await new Promise<{ channels: { listen: { builtin: string } }[] }>((resolve, reject) => {
        ws.once('message', (d) => resolve(JSON.parse(String(d)) as never));
        ws.once('error', reject);
      });
      ws.close();
      assert.equal(snapshot.channels[0]!.listen.builtin, 'http://10.1.2.3:9999/radio.mp3', 'the feed snapshot too');
    } finally {
      await station.close();
    }
    const fixed = await runStation({ PLAYLISTS_DIR: dir, PUBLIC_URL: 'https://radio.example.org/' });
    try {
      const body = JSON.parse((await get(`${fixed.url}/api/channels/r`, { host: '192.168.1.20:8080' })).body) as { listen: { builtin: string } };
      assert.equal(body.listen.builtin, 'https://radio.example.org/radio.mp3', 'PUBLIC_URL wins');
    } finally {
      await fixed.close();
    }
  });

  test('every output status event says what the output really is at that moment', async () => {
    const ice = await startIcecast();
    const dir = tempDir('status');
    await makeTone({ file: path.join(dir, 'a.m4a'), freq: 440, seconds: 5, args: ['-c:a', 'aac'] });
    writePlaylist(dir, 's', { name: 'S', mount: '/s.mp3', tracks: [{ source: 'file', path: 'a.m4a' }] });
    const station = await runStation({ PLAYLISTS_DIR: dir, ICECAST_URL: ice.sourceUrl });
    const seen: { event: string; output: { connected: boolean; status: string } }[] = [];
    const client = () => station.outputs.of(station.station.channels[0]!)!.icecast[0]!.client;
    const ws = new WebSocket(`${station.url.replace('http', 'ws')}/ws`);
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as { type: string; event?: string; output?: { connected: boolean; status: string } | null };
      if (m.type === 'status' && m.output) seen.push({ event: m.event!, output: m.output });
    });
    try {
      await new Promise((r) => ws.once('open', r));
      await until('on Icecast', () => (client().status === 'streaming' ? true : undefined), 10_000);
      await ice.kill();
      await until('output-disconnected', () => seen.find((e) => e.event === 'output-disconnected'), 10_000);
      await ice.start();
      await until('output-connected', () => seen.find((e) => e.event === 'output-connected'), 10_000);
      const down = seen.find((e) => e.event === 'output-disconnected')!;
      assert.equal(down.output.connected, false, 'a disconnection says connected: false');
      assert.notEqual(down.output.status, 'streaming');
      const up = seen.find((e) => e.event === 'output-connected')!;
      assert.deepEqual([up.output.connected, up.output.status], [true, 'streaming']);
      for (const e of seen) assert.equal(e.output.connected, e.event === 'output-connected', `${e.event} says connected: ${e.output.connected}`);
    } finally {
      ws.close();
      await station.close();
      await ice.stop();
    }
  });

  test('/favicon.ico is an icon, not a 404', async () => {
    const dir = tempDir('favicon');
    writePlaylist(dir, 'r', { name: 'R', mount: '/radio.mp3', tracks: [] });
    const station = await runStation({ PLAYLISTS_DIR: dir });
    try {
      const res = await get(`${station.url}/favicon.ico`, {});
      assert.equal(res.status, 200);
      assert.match(res.type, /^image\/svg\+xml/);
      assert.match(res.body, /<svg/);
    } finally {
      await station.close();
    }
  });
});
