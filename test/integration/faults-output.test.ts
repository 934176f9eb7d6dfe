/**
 * Faults between the source client and Icecast, with real sockets: a server
 * that accepts and never answers, one that stops reading mid-stream, and a
 * connection reset in the middle of a frame.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { parseFrameHeader } from '../../src/audio/mp3.js';
import { IcyReader } from '../../src/audio/icy.js';
import { silentFrame } from '../../src/audio/silence.js';
import { parsePlaylist } from '../../src/config/playlist-file.js';
import { IcecastSourceClient, SOURCE_METAINT } from '../../src/outputs/icecast/source-client.js';
import { OutputSet } from '../../src/outputs/output-set.js';
import type { Channel } from '../../src/playout/channel.js';
import type { Station } from '../../src/playout/station.js';
import { until } from '../helpers/ports.js';

const FRAME = silentFrame(128);

async function fakeIcecast(
  onConnection: (socket: net.Socket, index: number) => void,
): Promise<{ port: number; connections: net.Socket[]; close(): Promise<void> }> {
  const connections: net.Socket[] = [];
  const server = net.createServer((s) => {
    connections.push(s);
    s.on('error', () => undefined);
    onConnection(s, connections.length - 1);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections,
    close: () =>
      new Promise<void>((r) => {
        for (const c of connections) c.destroy();
        server.close(() => r());
      }),
  };
}

function client(port: number, opts: Partial<ConstructorParameters<typeof IcecastSourceClient>[0]> = {}): IcecastSourceClient {
  return new IcecastSourceClient({
    target: { server: `127.0.0.1:${port}`, host: '127.0.0.1', port, user: 'source', password: 'pw' },
    mount: '/fault.mp3',
    method: 'PUT',
    info: { name: 'Fault', public: false, bitrateKbps: 128, sampleRate: 44100, channels: 2 },
    userAgent: 'sCast/test',
    retry: () => 20,
    logger: pino({ level: 'silent' }),
    ...opts,
  });
}

describe('Icecast faults at the socket level', { timeout: 60_000 }, () => {
  test('Icecast accepts and never answers: the handshake times out and the client reconnects, sending nothing meanwhile', async () => {
    const server = await fakeIcecast(() => undefined);
    const c = client(server.port, { handshakeTimeoutMs: 200 });
    c.start();
    try {
      await until('three attempts', () => (server.connections.length >= 3 ? true : undefined), 5000, 10);
      assert.equal(c.write(FRAME), false);
      assert.equal(c.bytesSent, 0);
      assert.match(c.lastError?.message ?? '', /no reply within 200 ms/);
    } finally {
      c.destroy();
      await server.close();
    }
  });

  test('Icecast stops reading mid-stream: the write timeout detects it, memory stays bounded, and the client reconnects', async () => {
    const server = await fakeIcecast((s, i) => {
      s.once('data', () => s.write('HTTP/1.0 200 OK\r\n\r\n'));
      if (i === 0) s.once('data', () => s.pause()); // the first connection hangs after the handshake
    });
    const maxQueued = 64 * 1024;
    const c = client(server.port, { writeTimeoutMs: 300, maxQueuedBytes: maxQueued });
    c.start();
    try {
      await until('streaming', () => (c.state === 'streaming' ? true : undefined), 5000, 5);
      const big = Buffer.concat(Array.from({ length: 150 }, () => FRAME)); // ~62 KB of whole frames
      let worst = 0;
      const t0 = Date.now();
      while (server.connections.length < 2 && Date.now() - t0 < 20_000) {
        c.write(big);
        // @ts-expect-error: reading the private socket to check the bound
        worst = Math.max(worst, c.socket?.writableLength ?? 0);
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.equal(server.connections.length, 2, 'reconnected after the hang');
      assert.ok(worst <= maxQueued + big.length, `queued at most ${worst} bytes`);
      await until('streaming again', () => (c.state === 'streaming' ? true : undefined), 5000, 5);
      assert.equal(c.connections, 2);
    } finally {
      c.destroy();
      await server.close();
    }
  });

  test('titles go in-band: icy-metaint announced, a block every 4096 audio bytes, the title and StreamUrl again first thing after a reconnect', async () => {
    const heads: string[] = [];
    const metas: { connection: number; offset: number; raw: string }[] = [];
    const server = await fakeIcecast((s, i) => {
      let reader: IcyReader | null = null;
      s.on('data', (d: Buffer) => {
        if (!reader) {
          heads.push(d.toString('latin1'));
          s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\n');
          reader = new IcyReader(
            SOURCE_METAINT,
            () => undefined,
            (ev) => metas.push({ connection: i, offset: ev.audioOffset, raw: ev.raw }),
          );
          return;
        }
        reader.push(d);
        if (i === 0 && metas.some((m) => m.connection === 0 && m.raw.includes('Second'))) s.destroy();
      });
    });
    const c = client(server.port);
    c.setMetadata('First', 'https://radio.example/art/a.jpg');
    c.start();
    try {
      const timer = setInterval(() => c.write(FRAME), 5);
      await until('the first title', () => (metas.length > 0 ? true : undefined), 10_000, 10);
      c.setMetadata('Second', 'https://radio.example/art/b.jpg');
      await until('the second connection repeats the title', () => (metas.some((m) => m.connection === 1) ? true : undefined), 10_000, 10);
      clearInterval(timer);
      assert.match(heads[0]!, /\r\nicy-metaint: 4096\r\n/);
      assert.deepEqual(metas[0], { connection: 0, offset: 4096, raw: "StreamTitle='First';StreamUrl='https://radio.example/art/a.jpg';" });
      const second = metas.find((m) => m.connection === 0 && m.raw.includes('Second'))!;
      assert.equal(second.offset % 4096, 0, 'on a block boundary');
      assert.deepEqual(
        metas.find((m) => m.connection === 1),
        { connection: 1, offset: 4096, raw: "StreamTitle='Second';StreamUrl='https://radio.example/art/b.jpg';" },
      );
    } finally {
      c.destroy();
      await server.close();
    }
  });

  test('a connection reset in the middle of a frame: the client reconnects and the new stream starts on a frame boundary', async () => {
    const received: Buffer[][] = [[], []];
    const server = await fakeIcecast((s, i) => {
      let handshaken = false;
      let bytes = 0;
      s.on('data', (d: Buffer) => {
        if (!handshaken) {
          handshaken = true;
          s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\n');
          return;
        }
        if (i < 2) received[i]!.push(d);
        bytes += d.length;
        // Cut the first connection at an odd byte count, mid-frame.
        if (i === 0 && bytes > 5000) s.resetAndDestroy();
      });
    });
    const c = client(server.port);
    c.start();
    try {
      const timer = setInterval(() => c.write(FRAME), 5);
      await until('second connection has audio', () => (Buffer.concat(received[1]!).length > 2000 ? true : undefined), 10_000, 10);
      clearInterval(timer);
      const second = Buffer.concat(received[1]!);
      const header = parseFrameHeader(second, 0);
      assert.ok(header, `starts with a frame header: ${second.subarray(0, 4).toString('hex')}`);
      assert.equal(header.bitrateKbps, 128);
      assert.equal(c.connections, 2);
      assert.equal(c.lastError, null);
    } finally {
      c.destroy();
      await server.close();
    }
  });

  test('start-up waits for every Icecast handshake to finish, on air or failed, and never longer than its cap', async () => {
    const answers = await fakeIcecast((s) => s.once('data', () => s.write('HTTP/1.1 100 Continue\r\n\r\n')));
    const refuses = await fakeIcecast((s) => s.once('data', () => s.end('HTTP/1.0 401 Unauthorized\r\n\r\n')));
    const silent = await fakeIcecast(() => undefined);
    const playlist = parsePlaylist(
      'settle.json',
      Buffer.from(JSON.stringify({ name: 'Settle', mount: '/settle.mp3', tracks: [{ source: 'file', path: 'a.m4a' }] })),
    );
    // The outputs need only what a channel shows them: its playlist, its events, what is playing.
    const channel = Object.assign(new EventEmitter(), { id: 'settle', playlist, nowPlaying: null, renditions: [] }) as unknown as Channel;
    const station = Object.assign(new EventEmitter(), { channels: [channel] }) as unknown as Station;
    const target = (port: number) => ({ server: `127.0.0.1:${port}`, host: '127.0.0.1', port, user: 'source', password: 'pw' });
    const setOf = (ports: number[]) =>
      new OutputSet(station, {
        icecast: ports.map(target),
        method: 'PUT',
        retry: () => 60_000,
        builtin: false,
        logger: pino({ level: 'silent' }),
        userAgent: 'sCast/test',
      });
    const quick = setOf([answers.port, refuses.port]);
    const stuck = setOf([answers.port, silent.port]);
    try {
      const t0 = performance.now();
      await quick.attemptsSettled(5000);
      const quickMs = performance.now() - t0;
      assert.deepEqual(
        quick.of(channel)!.icecast.map((o) => o.client.state),
        ['streaming', 'waiting'],
      );
      assert.ok(quickMs < 1000, `settled when both answered, not at the cap (${quickMs.toFixed(0)} ms)`);
      const t1 = performance.now();
      await stuck.attemptsSettled(300);
      const stuckMs = performance.now() - t1;
      assert.deepEqual(
        stuck.of(channel)!.icecast.map((o) => o.client.state),
        ['streaming', 'connecting'],
      );
      assert.ok(stuckMs >= 290, `a server that never answers holds start-up only until the cap (${stuckMs.toFixed(0)} ms)`);
      await quick.attemptsSettled(5000); // nothing connecting: at once
      const c0 = performance.now();
      await stuck.close();
      assert.ok(performance.now() - c0 < 1000, `closing does not wait on a handshake that never ends (${(performance.now() - c0).toFixed(0)} ms)`);
    } finally {
      await Promise.all([quick.close(), stuck.close()]);
      await Promise.all([answers.close(), refuses.close(), silent.close()]);
    }
  });
});
