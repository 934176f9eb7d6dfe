/**
 * The live path's timeouts on a fake clock: a source that never sends its
 * head, a DJ who goes quiet, a DJ who sends only silence, an Icecast
 * connection's reconnect backoff, the station's rescans and the feed's
 * heartbeats. Real sockets and real objects; only time is fake, so each
 * deadline is checked to the millisecond without being waited for.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import { afterEach, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { Feed } from '../../src/api/feed.js';
import type { OutputSet } from '../../src/outputs/output-set.js';
import { pino } from 'pino';
import { exponentialBackoff } from '../../src/kernel/retry.js';
import { hashPassword, writeDjFile } from '../../src/live/accounts.js';
import { LiveIngest } from '../../src/live/ingest.js';
import type { ShowInput } from '../../src/live/show.js';
import { IcecastSourceClient } from '../../src/outputs/icecast/source-client.js';
import type { Station as StationType } from '../../src/playout/station.js';
import { Station } from '../../src/playout/station.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { fakeChannel } from '../helpers/fake-channel.js';
import { FakeFeed, fakeSong } from '../helpers/fake-songs.js';
import { captureLogs, tempDir } from '../helpers/station.js';

const silent = pino({ level: 'silent' });
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Let socket events and promise callbacks run (real I/O, no timers involved). */
async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

/** A DJ's input without ffmpeg: each byte the client sends becomes one frame of `value`, decoded at once. */
class FakeShowInput extends FakeFeed implements ShowInput {
  bytesIn = 0;
  lastBytesAt: number;
  lastTakenAt: number;
  lastAudibleAt: number;
  readonly autoGain = null;
  readonly done = new Promise<void>(() => {});

  constructor(
    private readonly now: () => number,
    private readonly level: number,
  ) {
    super(3600 * 44100, () => level, 0);
    this.lastBytesAt = this.lastTakenAt = this.lastAudibleAt = now();
  }

  write(chunk: Buffer): boolean {
    this.bytesIn += chunk.length;
    this.lastBytesAt = this.now();
    this.produced = Math.min(this.total, this.produced + chunk.length);
    return true;
  }

  onDrain(): void {}
  end(): void {}
  keepUp(): number {
    return 0;
  }

  /** When the show went on air (its dead-air clock starts there). */
  onAirAt: number | null = null;

  onAir(): void {
    this.onAirAt = this.lastTakenAt = this.lastAudibleAt = this.now();
  }

  override take(max: number): Buffer | null {
    const b = super.take(max);
    if (b) {
      this.lastTakenAt = this.now();
      if (this.level !== 0) this.lastAudibleAt = this.now();
    }
    return b;
  }
}

/** A channel on air on `clock`, a LiveIngest in front of it on a local port, and a DJ account. */
async function liveRig(clock: FakeClock, djLevel: number, opts: { sourceTimeoutMs?: number; deadAirSeconds?: number } = {}) {
  const song = () => fakeSong(600 * 44100, 1000, { seconds: 600 });
  const { channel } = fakeChannel(clock, [song(), song()], {
    live: { deadAirSeconds: opts.deadAirSeconds ?? 5 },
  });
  channel.start();
  clock.advance(500);
  const djs = path.join(tempDir('live-path'), 'djs.json');
  await writeDjFile(djs, { djs: [{ user: 'dana', channels: ['test'], hash: await hashPassword('dana-password'), timezone: 'UTC' }] });
  const inputs: FakeShowInput[] = [];
  /** Each show's end as the channel played it: when, and why. */
  const ends: { at: number; why: string | null }[] = [];
  channel.on('live-end', (show: { end: string | null }) => ends.push({ at: clock.now(), why: show.end }));
  const logs = captureLogs('info');
  const ingest = new LiveIngest({
    station: { byMount: (m: string) => (m === channel.playlist.mount ? channel : undefined) } as unknown as StationType,
    djsFile: djs,
    logger: logs.logger,
    decoderPath: 'ffmpeg-is-never-started',
    sourceTimeoutMs: opts.sourceTimeoutMs ?? 10_000,
    headTimeoutMs: 3000,
    clock,
    openInput: () => {
      const input = new FakeShowInput(() => clock.now(), djLevel);
      inputs.push(input);
      return input;
    },
  });
  const server = net.createServer((socket) => ingest.accept(socket, Buffer.alloc(0)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  cleanups.push(
    () => new Promise((r) => server.close(r)),
    () => ingest.close(),
    () => channel.destroy(),
  );
  /** A connected client and everything it has been answered. */
  const connect = async () => {
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    cleanups.push(() => socket.destroy());
    const got = { text: '', closed: false };
    socket.on('data', (d: Buffer) => (got.text += d.toString('latin1')));
    socket.on('close', () => (got.closed = true));
    socket.on('error', () => {});
    return { socket, got };
  };
  /** Signs in as dana and waits for the 200 (the password check is real scrypt). */
  const signIn = async () => {
    const c = await connect();
    const auth = Buffer.from('dana:dana-password').toString('base64');
    c.socket.write(`SOURCE /test.mp3 HTTP/1.0\r\nAuthorization: Basic ${auth}\r\nContent-Type: audio/mpeg\r\n\r\n`);
    while (!c.got.text.includes('\r\n\r\n')) await once(c.socket, 'data');
    assert.match(c.got.text, /^HTTP\/1\.0 200/);
    return c;
  };
  return { channel, ingest, inputs, ends, logs, connect, signIn };
}

describe('live path on a fake clock', () => {
  test('a source that never sends its head is answered 400 at the head timeout, not a millisecond before', async () => {
    const clock = new FakeClock();
    const rig = await liveRig(clock, 1000);
    const { socket, got } = await rig.connect();
    socket.write('SOURCE /test.mp3 HTTP/1.0\r\n');
    await settle();
    clock.advance(2999);
    await settle();
    assert.equal(got.text, '', 'nothing said before 3 s');
    clock.advance(1);
    while (!got.closed) await once(socket, 'close');
    assert.match(got.text, /^HTTP\/1\.0 400 .*\r\n[\s\S]*did not arrive in time/);
  });

  test('a chunked body malformed in the very bytes that came with the head ends the show, it does not fail the connection', async () => {
    const clock = new FakeClock();
    const rig = await liveRig(clock, 1000);
    const { socket, got } = await rig.connect();
    const auth = Buffer.from('dana:dana-password').toString('base64');
    socket.write(`PUT /test.mp3 HTTP/1.1\r\nAuthorization: Basic ${auth}\r\nContent-Type: audio/mpeg\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`);
    while (!got.closed) await once(socket, 'close');
    assert.match(got.text, /^HTTP\/1\.0 200 OK\r\n\r\n$/, 'signed in, then closed');
    assert.deepEqual(rig.logs.find(/source connection failed/), [], 'the show ended; the connection did not fail');
    assert.match(String(rig.logs.find(/live: dana off/)[0]?.reason), /chunked body is malformed \(not a chunk size line/);
    assert.equal(rig.inputs.length, 1);
    assert.equal(rig.inputs[0]!.bytesIn, 0, 'none of the framing reached the decoder');
    assert.equal(clock.pending, 1, "only the channel's own tick is left running");
    // The mount is free again: the same DJ signs in at once.
    await rig.signIn();
  });

  test('a DJ who stops sending is taken off at the source timeout; the playlist is back on air', async () => {
    const clock = new FakeClock();
    const rig = await liveRig(clock, 7000, { sourceTimeoutMs: 4000, deadAirSeconds: 30 });
    const { socket } = await rig.signIn();
    // Twenty seconds of audio in one go: the show never runs dry, so only the source timeout can end it.
    socket.write(Buffer.alloc(20 * 44100));
    while (rig.inputs[0]?.bytesIn !== 20 * 44100) await settle();
    const lastBytesAt = clock.now();
    // On air: the show's first audio decoded (at once here), then the takeover's fade.
    clock.advance(1500);
    assert.equal(rig.channel.liveShow?.dj, 'dana', 'on air');
    clock.advance(2400);
    assert.equal(rig.ends.length, 0, 'still on 3.9 s after the last bytes');
    assert.equal(rig.channel.liveShow?.dj, 'dana');
    clock.advance(3000);
    assert.equal(rig.ends.length, 1);
    assert.match(rig.ends[0]!.why ?? '', /source timeout: nothing received for 4 s/);
    assert.ok(rig.ends[0]!.at - lastBytesAt >= 4000, `ended ${rig.ends[0]!.at - lastBytesAt} ms after the last bytes`);
    assert.equal(rig.channel.liveShow, null, 'the playlist has the air back');
  });

  test('a DJ who sends only silence is taken off after dead air, not before', async () => {
    const clock = new FakeClock();
    const rig = await liveRig(clock, 0, { sourceTimeoutMs: 60_000, deadAirSeconds: 3 });
    const { socket } = await rig.signIn();
    socket.write(Buffer.alloc(30 * 44100));
    while (rig.inputs[0]?.bytesIn !== 30 * 44100) await settle();
    clock.advance(1500);
    assert.equal(rig.channel.liveShow?.dj, 'dana', 'on air');
    const onAirAt = rig.inputs[0]!.onAirAt!;
    clock.advance(onAirAt + 2900 - clock.now());
    assert.equal(rig.ends.length, 0, 'silent for 2.9 s: still on');
    clock.advance(3000);
    assert.equal(rig.ends.length, 1);
    assert.match(rig.ends[0]!.why ?? '', /dead air: silent for 3 s/);
    assert.ok(rig.ends[0]!.at - onAirAt >= 3000, `ended ${rig.ends[0]!.at - onAirAt} ms after going on air`);
    assert.equal(rig.channel.liveShow, null);
  });
});

describe('Icecast source client on a fake clock', () => {
  test('a refused connection is retried after exactly the backoff, doubling; the handshake timeout too', async () => {
    const clock = new FakeClock();
    /** What the fake Icecast does with each connection, in turn. */
    let mode: 'close' | 'silent' | 'accept' = 'close';
    const connections: number[] = [];
    const arrived = new EventTarget();
    const server = net.createServer((socket) => {
      connections.push(clock.now());
      arrived.dispatchEvent(new Event('connection'));
      socket.on('error', () => {});
      socket.once('data', () => {
        if (mode === 'close') socket.destroy();
        else if (mode === 'accept') socket.write('HTTP/1.1 200 OK\r\n\r\n');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    const client = new IcecastSourceClient({
      target: { server: `127.0.0.1:${port}`, host: '127.0.0.1', port, user: 'source', password: 'pw' },
      mount: '/fake.mp3',
      method: 'PUT',
      info: { name: 'Fake', public: false, bitrateKbps: 128, sampleRate: 44100, channels: 2 },
      userAgent: 'sCast/test',
      retry: exponentialBackoff({ baseMs: 1000, capMs: 8000, random: () => 1 }),
      logger: silent,
      handshakeTimeoutMs: 5000,
      clock,
    });
    cleanups.push(
      () => new Promise((r) => server.close(r)),
      () => client.destroy(),
    );
    const nextConnection = (n: number) => (connections.length >= n ? Promise.resolve() : once(arrived, 'connection'));
    const status = (want: string) =>
      client.state === want ? Promise.resolve() : new Promise<void>((r) => client.on('status', (s) => s.state === want && r()));

    client.start();
    await nextConnection(1);
    await status('waiting');
    // The status carries what an operator asks: why, which attempt, when the next one.
    assert.deepEqual(
      { ...client.status, lastError: client.lastError?.code },
      { state: 'waiting', attempt: 1, lastError: 'SCAST_ICECAST_CONNECTION', retryAt: 1000 },
    );
    for (const [wait, n] of [
      [1000, 2],
      [2000, 3],
    ] as const) {
      clock.advance(wait - 1);
      await settle();
      assert.equal(connections.length, n - 1, `no attempt ${n} before ${wait} ms`);
      clock.advance(1);
      await nextConnection(n);
      await status('waiting');
    }
    assert.deepEqual(connections, [0, 1000, 3000]);
    // A server that takes the connection and says nothing: the handshake timeout, then the next backoff (4 s).
    mode = 'silent';
    clock.advance(4000);
    await nextConnection(4);
    await status('connecting');
    clock.advance(4999);
    await settle();
    assert.equal(client.state, 'connecting', 'still waiting for a reply 4.999 s in');
    clock.advance(1);
    await status('waiting');
    assert.match(client.lastError?.message ?? '', /no reply within 5000 ms/);
    mode = 'accept';
    const connected = once(client, 'connected') as Promise<[{ downMs: number }]>;
    clock.advance(8000);
    const [{ downMs }] = await connected;
    assert.equal(downMs, 20_000, 'down from start to on air, on the clock');
    assert.deepEqual(client.status, { state: 'streaming', since: 20_000, connection: 1 });
    assert.equal(client.lastError, null, 'on air: no error kept');
    assert.deepEqual(connections, [0, 1000, 3000, 7000, 20_000]);
    // close() twice: one promise.
    const a = client.close();
    assert.equal(client.close(), a);
    await a;
    assert.equal(client.state, 'closed');
  });
});

describe('station and feed on a fake clock', () => {
  test('the station counts the channels it is about to run while the first of them start (where encoders run is decided on it)', async () => {
    const clock = new FakeClock();
    const dir = tempDir('station-planned');
    for (const id of ['a', 'b', 'c']) writeFileSync(path.join(dir, `${id}.json`), JSON.stringify({ name: id, mount: `/${id}.mp3`, tracks: [] }));
    const seen: number[] = [];
    const station = new Station({
      dir,
      mediaDirs: [],
      logger: silent,
      timers: clock,
      createChannel: (loaded) => {
        seen.push(station.plannedChannels);
        return fakeChannel(clock, [], loaded.playlist, loaded.id).channel;
      },
    });
    cleanups.push(() => station.close());
    await station.start();
    assert.deepEqual(seen, [3, 3, 3], 'the first channel to start already counts the other two');
    assert.equal(station.channels.length, 3);
  });

  test('a playlist edit applies 150 ms after its last change, as one change; close stops every timer and returns one promise', async () => {
    const clock = new FakeClock();
    const dir = tempDir('station-clock');
    const added: string[] = [];
    const station = new Station({
      dir,
      mediaDirs: [],
      logger: silent,
      timers: clock,
      pollMs: 2000,
      createChannel: (loaded) => fakeChannel(clock, [fakeSong(60 * 44100, 1000, { seconds: 60 })], loaded.playlist, loaded.id).channel,
    });
    cleanups.push(() => station.close());
    station.on('channel-added', (c) => added.push(c.id));
    await station.start();
    assert.deepEqual(added, []);
    const file = path.join(dir, 'news.json');
    // An editor saving in two steps: the first state is not a valid playlist, the second is.
    writeFileSync(file, '{"name": "News", ');
    writeFileSync(file, JSON.stringify({ name: 'News', mount: '/news.mp3', tracks: [] }));
    // The folder's change events arrive (real fs.watch), but apply only when the clock says.
    const invalid: string[] = [];
    station.on('invalid', (e) => invalid.push(e.message));
    await settle(20);
    assert.deepEqual(added, [], 'nothing before the debounce');
    const addedNow = once(station, 'channel-added');
    clock.advance(150);
    await addedNow;
    assert.deepEqual(added, ['news']);
    assert.deepEqual(invalid, [], 'the half-written state was never read');
    const a = station.close();
    assert.equal(station.close(), a, 'a second close returns the first promise');
    await a;
    assert.equal(station.status, 'closed');
    const leftOver = clock.pending;
    assert.equal(leftOver, 0, `${leftOver} timers left running after close`);
  });

  test('a feed client that does not answer a ping is dropped at the next one; one that answers stays; stop sends 1001', async () => {
    const clock = new FakeClock();
    const station = new Station({ dir: tempDir('feed-clock'), mediaDirs: [], logger: silent, timers: clock, createChannel: () => assert.fail('no playlists') });
    await station.start();
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    const feed = new Feed({
      server,
      station,
      outputs: new EventEmitter() as unknown as OutputSet,
      ctx: { outputsOf: () => undefined, publicUrl: () => `http://127.0.0.1:${port}`, icecastUrls: [] },
      logger: silent,
      pingMs: 30_000,
      clock,
    });
    cleanups.push(
      () => new Promise((r) => server.close(r)),
      () => feed.close(),
      () => station.close(),
    );
    // One client answers pings (the ws library does), one never does: a raw socket that did the handshake and then went deaf.
    const good = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    const goodMessages: string[] = [];
    good.on('message', (d) => goodMessages.push(String(d)));
    await once(good, 'open');
    const deaf = net.connect(port, '127.0.0.1');
    cleanups.push(
      () => deaf.destroy(),
      () => good.terminate(),
    );
    await once(deaf, 'connect');
    deaf.write(
      'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    let deafGot = '';
    deaf.on('data', (d: Buffer) => (deafGot += d.toString('latin1')));
    while (!deafGot.includes('snapshot')) await once(deaf, 'data');
    assert.match(deafGot, /^HTTP\/1\.1 101/);
    const deafClosed = once(deaf, 'close');
    // First ping: both get it; the good one answers.
    const pinged = once(good, 'ping');
    clock.advance(30_000);
    await pinged;
    await settle(20);
    clock.advance(29_999);
    await settle(20);
    assert.equal(deaf.destroyed, false, 'not dropped before the next ping');
    clock.advance(1);
    await deafClosed;
    assert.equal(good.readyState, WebSocket.OPEN, 'the client that answered stays');
    const goodClosed = once(good, 'close') as Promise<[number, Buffer]>;
    const a = feed.close();
    assert.equal(feed.close(), a, 'a second close returns the first promise');
    const [code] = await goodClosed;
    await a;
    assert.equal(code, 1001);
    assert.ok(goodMessages.some((m) => m.includes('"snapshot"')));
  });
});
