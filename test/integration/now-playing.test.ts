import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { serverMessageSchema, snapshotMessageSchema, trackMessageSchema, type ServerMessage } from '../../src/api/messages.js';
import { listen } from '../helpers/listener.js';
import { decodeMp3, makeTone, toneChanges } from '../helpers/media.js';
import { until } from '../helpers/ports.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

const CONTROL = 'control-token-0123456789';

interface FeedClient {
  ws: WebSocket;
  messages: { at: number; msg: ServerMessage }[];
  next(match: (m: ServerMessage) => boolean, timeoutMs?: number): Promise<{ at: number; msg: ServerMessage }>;
}

function feed(url: string): Promise<FeedClient> {
  const ws = new WebSocket(url);
  const messages: FeedClient['messages'] = [];
  const waiters: { match: (m: ServerMessage) => boolean; resolve: (v: { at: number; msg: ServerMessage }) => void }[] = [];
  const taken = new Set<object>();
  ws.on('message', (data) => {
    const msg = serverMessageSchema.parse(JSON.parse(String(data)));
    const entry = { at: Date.now(), msg };
    messages.push(entry);
    const w = waiters.find((x) => x.match(msg));
    if (w) {
      waiters.splice(waiters.indexOf(w), 1);
      taken.add(entry);
      w.resolve(entry);
    }
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () =>
      resolve({
        ws,
        messages,
        next(match, timeoutMs = 20_000) {
          // Messages that arrived before the call count, each once.
          const early = messages.find((m) => !taken.has(m) && match(m.msg));
          if (early) {
            taken.add(early);
            return Promise.resolve(early);
          }
          return new Promise((res, rej) => {
            const t = setTimeout(() => rej(new Error(`no matching message; got ${messages.map((m) => m.msg.type).join(',')}`)), timeoutMs);
            waiters.push({
              match,
              resolve: (v) => {
                clearTimeout(t);
                res(v);
              },
            });
          });
        },
      }),
    );
    ws.once('error', reject);
  });
}

describe('now playing: WebSocket feed, API and control', { timeout: 180_000 }, () => {
  let station: Awaited<ReturnType<typeof runStation>>;
  let dir: string;
  const songs = [
    { file: 'a.m4a', freq: 440, title: 'First', artist: 'Alpha' },
    { file: 'b.m4a', freq: 660, title: '第二首', artist: '乙' },
    { file: 'c.m4a', freq: 880, title: 'Third', artist: 'Gamma' },
  ];

  before(async () => {
    dir = tempDir('np');
    for (const s of songs) await makeTone({ file: path.join(dir, s.file), freq: s.freq, seconds: 3, args: ['-c:a', 'aac'] });
    await makeTone({ file: path.join(dir, 'jingle.m4a'), freq: 1200, seconds: 2, args: ['-c:a', 'aac'] });
    writePlaylist(dir, 'one', {
      name: 'One',
      mount: '/one.mp3',
      tracks: songs.map((s) => ({ source: 'file', path: s.file, title: s.title, artist: s.artist })),
    });
    writePlaylist(dir, 'two', { name: 'Two', mount: '/two.mp3', tracks: [{ source: 'file', path: 'c.m4a', title: 'Only' }] });
    station = await runStation({ PLAYLISTS_DIR: dir, CONTROL_TOKEN: CONTROL }, undefined, { feed: { maxBufferedBytes: 64 * 1024, pingMs: 300 } });
    await until('songs on air', () => (station.station.channels.every((c) => c.nowPlaying) ? true : undefined), 10_000);
  });
  after(async () => station?.close());

  test('snapshot on connect, then a track message within 250 ms of the seam a listener receives', async () => {
    const wsUrl = `${station.url.replace('http', 'ws')}/ws`;
    const listener = await listen(`${station.url}/one.mp3`, { icy: false });
    const client = await feed(wsUrl);
    const snap = snapshotMessageSchema.parse((await client.next((m) => m.type === 'snapshot')).msg);
    assert.deepEqual(snap.channels.map((c) => c.id).sort(), ['one', 'two']);
    const one = snap.channels.find((c) => c.id === 'one')!;
    assert.equal(one.listen.builtin, `${station.url}/one.mp3`);
    assert.ok(one.nowPlaying && one.nowPlaying.durationMs! > 2900 && one.nowPlaying.durationMs! < 3100, JSON.stringify(one.nowPlaying));
    assert.ok(one.next?.title);
    // Two seams.
    const tracks: { at: number; msg: ServerMessage }[] = [];
    for (let i = 0; i < 2; i++) tracks.push(await client.next((m) => m.type === 'track' && m.channel === 'one'));
    await new Promise((r) => setTimeout(r, 500));
    listener.close();
    const pcm = await decodeMp3(listener.audio());
    const changes = toneChanges(
      pcm,
      songs.map((s) => s.freq),
      44100,
      10,
    );
    const offsets: number[] = [];
    for (const t of tracks) {
      const msg = trackMessageSchema.parse(t.msg);
      const song = songs.find((s) => s.title === msg.nowPlaying.title)!;
      const seam = changes.find((c) => c.to === song.freq && Math.abs(listener.arrivalOf(Math.round(c.at * 16000))! - t.at) < 3000);
      assert.ok(seam, `seam for ${song.title} in ${JSON.stringify(changes)}`);
      const seamArrival = listener.arrivalOf(Math.round(seam.at * 16000))!;
      offsets.push(t.at - seamArrival);
    }
    console.log(`# track message minus arrival of the seam's audio (ms): ${offsets.join(', ')}`);
    for (const o of offsets) assert.ok(Math.abs(o) <= 250, `${o} ms`);
    client.ws.close();
  });

  test('a channel added while the station runs is followed too: its on-air status and its songs', async () => {
    const client = await feed(`${station.url.replace('http', 'ws')}/ws`);
    await client.next((m) => m.type === 'snapshot');
    writePlaylist(dir, 'late', { name: 'Late', mount: '/late.mp3', tracks: [{ source: 'file', path: 'a.m4a', title: 'Late Song' }] });
    const late = (m: ServerMessage) => 'channel' in m && m.channel === 'late';
    await client.next((m) => late(m) && m.type === 'status' && m.event === 'on-air', 10_000);
    const track = await client.next((m) => late(m) && m.type === 'track', 10_000);
    assert.equal(trackMessageSchema.parse(track.msg).nowPlaying.title, 'Late Song');
    // Its second song change too: the feed did not let go of it when it went on air.
    const again = await client.next((m) => late(m) && m.type === 'track' && m !== track.msg, 10_000);
    assert.equal(trackMessageSchema.parse(again.msg).channel, 'late');
    client.ws.close();
    rmSync(path.join(dir, 'late.json'));
  });

  test('?channel= filters; unknown channel is refused', async () => {
    const client = await feed(`${station.url.replace('http', 'ws')}/ws?channel=two`);
    const snap = snapshotMessageSchema.parse((await client.next((m) => m.type === 'snapshot')).msg);
    assert.deepEqual(
      snap.channels.map((c) => c.id),
      ['two'],
    );
    await client.next((m) => m.type === 'track' && m.channel === 'two', 10_000);
    await until('a song change on "one" meanwhile', () => (station.station.channel('one')!.songsPlayed > 3 ? true : undefined), 10_000);
    assert.ok(client.messages.every((m) => m.msg.type === 'snapshot' || ('channel' in m.msg && m.msg.channel === 'two')));
    client.ws.close();
    await assert.rejects(feed(`${station.url.replace('http', 'ws')}/ws?channel=nope`), /404/);
  });

  test('a slow client is disconnected instead of growing memory; a flooding one too', async () => {
    const slow = await feed(`${station.url.replace('http', 'ws')}/ws`);
    // Stop reading, then make the server send far more than it may queue.
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const channel = station.station.channel('one')!;
    const fakeOutput = { server: 'x:1', client: { state: 'waiting', lastError: { message: 'e'.repeat(20_000) } } };
    const closed = new Promise((r) => slow.ws.once('close', r));
    for (let i = 0; i < 2000 && station.logs.find(/too slow/).length === 0; i++) {
      station.outputs.emit('output-status', channel, fakeOutput, false);
      if (i % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    assert.ok(station.logs.find(/feed client too slow/).length >= 1);
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await closed;
    const flood = await feed(`${station.url.replace('http', 'ws')}/ws`);
    const floodClosed = new Promise<number>((r) => flood.ws.once('close', (code) => r(code)));
    for (let i = 0; i < 100; i++) flood.ws.send('hello');
    assert.equal(await floodClosed, 1008);
  });

  test('a client that never answers pings is dropped; one that does stays', async () => {
    const net = await import('node:net');
    const { randomBytes } = await import('node:crypto');
    const u = new URL(station.url);
    const dead = net.connect(Number(u.port), u.hostname);
    let upgraded = '';
    dead.on('data', (d: Buffer) => {
      upgraded += d.toString('latin1');
    });
    dead.write(
      `GET /ws HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    const alive = await feed(`${station.url.replace('http', 'ws')}/ws`);
    const t0 = Date.now();
    await new Promise((r) => dead.once('close', r));
    assert.match(upgraded, /^HTTP\/1\.1 101/);
    assert.ok(Date.now() - t0 < 2000, `dropped after ${Date.now() - t0} ms`);
    assert.ok(station.logs.find(/did not answer ping/).length >= 1);
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(alive.ws.readyState, WebSocket.OPEN, 'a client answering pings stays');
    alive.ws.close();
  });

  test('HTTP API: channels, one channel with history, unknown channel 404, health', async () => {
    const list = (await (await fetch(`${station.url}/api/channels`)).json()) as { channels: { id: string }[] };
    assert.deepEqual(list.channels.map((c) => c.id).sort(), ['one', 'two']);
    const one = (await (await fetch(`${station.url}/api/channels/one`)).json()) as {
      history: { title: string; startedAt: string; endedAt: string }[];
      nowPlaying: { title: string };
    };
    assert.ok(one.history.length >= 1 && one.history.length <= 20);
    assert.ok(Date.parse(one.history[0]!.endedAt) >= Date.parse(one.history[0]!.startedAt));
    const missing = await fetch(`${station.url}/api/channels/nope`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'SCAST_NOT_FOUND');
    const bad = await fetch(`${station.url}/api/channels/..%2F..`);
    assert.ok(bad.status === 400 || bad.status === 404);
    const health = await fetch(`${station.url}/health`);
    assert.equal(health.status, 200);
    const h = (await health.json()) as { status: string; channels: { onAir: boolean; outputs: { kind: string }[] }[] };
    assert.equal(h.status, 'ok');
    assert.ok(h.channels.every((c) => c.onAir && c.outputs.some((o) => o.kind === 'builtin')));
  });

  test('control: token required; skip within a second; a queued track plays next with its title', async () => {
    const post = (p: string, body?: unknown, token: string | null = CONTROL) =>
      fetch(`${station.url}${p}`, {
        method: 'POST',
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
    assert.equal((await post('/api/channels/one/skip', undefined, null)).status, 401);
    assert.equal((await post('/api/channels/one/skip', undefined, 'wrong-wrong-wrong-wrong')).status, 401);
    const badBody = await post('/api/channels/one/queue', { source: 'file' });
    assert.equal(badBody.status, 400);
    const err = (await badBody.json()) as { error: { code: string; issues: { where: string }[] } };
    assert.equal(err.error.code, 'SCAST_BAD_REQUEST');
    assert.ok(err.error.issues.some((i) => i.where === 'body.path'));
    assert.equal((await post('/api/channels/one/queue', '{"source":')).status, 400);
    assert.equal((await post('/api/channels/one/queue', { source: 'file', path: '../../etc/passwd' })).status, 400);
    assert.equal((await post('/api/channels/nope/skip')).status, 404);

    const listener = await listen(`${station.url}/one.mp3`);
    const client = await feed(`${station.url.replace('http', 'ws')}/ws?channel=one`);
    await client.next((m) => m.type === 'snapshot');
    const queued = await post('/api/channels/one/queue', { source: 'file', path: 'jingle.m4a', title: 'Queued Jingle', artist: 'Control' });
    assert.equal(queued.status, 202);
    const before = station.station.channel('one')!.nowPlaying!.title;
    const t0 = Date.now();
    const skip = await post('/api/channels/one/skip');
    assert.equal(skip.status, 202);
    assert.deepEqual(await skip.json(), { skipped: before });
    const next = await client.next((m) => m.type === 'track');
    assert.equal(trackMessageSchema.parse(next.msg).nowPlaying.title, 'Queued Jingle');
    console.log(`# skip took effect after ${next.at - t0} ms`);
    assert.ok(next.at - t0 <= 1000, `skip took ${next.at - t0} ms`);
    await listener.waitForTitle((t) => t === 'Control - Queued Jingle', 10_000);
    listener.close();
    client.ws.close();
    assert.equal((await post('/api/reload')).status, 200);
  });

  test('bad HTTP input: oversized body 413, malformed JSON 400, unknown route 404, all in one error shape', async () => {
    const big = await fetch(`${station.url}/api/channels/one/queue`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CONTROL}`, 'content-type': 'application/json' },
      body: JSON.stringify({ source: 'file', path: 'x'.repeat(200_000) }),
    });
    assert.equal(big.status, 413);
    assert.match(((await big.json()) as { error: { code: string } }).error.code, /^SCAST_|FST_/);
    const malformed = await fetch(`${station.url}/api/channels/one/queue`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CONTROL}`, 'content-type': 'application/json' },
      body: '{"source": "file", ',
    });
    assert.equal(malformed.status, 400);
    const unknown = await fetch(`${station.url}/api/nothing/here`);
    assert.equal(unknown.status, 404);
    assert.deepEqual(Object.keys((await unknown.json()) as object), ['error']);
    assert.equal(station.station.channel('one')!.status, 'on-air', 'nothing else disturbed');
  });
});

describe('control disabled', { timeout: 60_000 }, () => {
  test('without CONTROL_TOKEN, control routes answer 403 and say why', async () => {
    const dir = tempDir('nocontrol');
    await makeTone({ file: path.join(dir, 'a.m4a'), freq: 440, seconds: 1, args: ['-c:a', 'aac'] });
    writePlaylist(dir, 'x', { name: 'X', mount: '/x.mp3', tracks: [{ source: 'file', path: 'a.m4a' }] });
    const station = await runStation({ PLAYLISTS_DIR: dir });
    try {
      const res = await fetch(`${station.url}/api/channels/x/skip`, { method: 'POST', headers: { authorization: 'Bearer anything-anything' } });
      assert.equal(res.status, 403);
      assert.match(((await res.json()) as { error: { message: string } }).error.message, /set CONTROL_TOKEN/);
    } finally {
      await station.close();
    }
  });
});
