import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import pino from 'pino';
import { ListenerHub } from '../../src/outputs/listeners.js';
import type { AudioSource, NowPlaying } from '../../src/playout/now-playing.js';
import { FakeClock } from '../helpers/fake-clock.js';

/** A channel as the hub sees it: audio and titles, as events. */
class Source extends EventEmitter implements Partial<AudioSource> {
  readonly id = 'radio';
  nowPlaying: NowPlaying | null = null;
}

const info = { name: 'Test FM', description: '', genre: '', url: '', public: false, bitrateKbps: 128, channels: 2, sampleRate: 44100 };

/** A listening socket pair: the server side goes to the hub, the client side is the player. */
async function pair(): Promise<{ server: Socket; client: Socket; done: () => void }> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  const accepted = once(srv, 'connection') as Promise<[Socket]>;
  const client = connect(port, '127.0.0.1');
  const [server] = await accepted;
  return { server, client, done: () => srv.close() };
}

function collect(socket: Socket): { bytes: () => Buffer } {
  const parts: Buffer[] = [];
  socket.on('data', (d: Buffer) => parts.push(d));
  return { bytes: () => Buffer.concat(parts) };
}

describe('built-in listener hub: lifecycle', () => {
  it('close() ends every listener, waits for each, cuts one that never closes after its grace, and is idempotent', async () => {
    const clock = new FakeClock();
    const source = new Source();
    const hub = new ListenerHub(source as unknown as AudioSource, { info, logger: pino({ level: 'silent' }), timers: clock });
    const polite = await pair();
    const stubborn = await pair();
    // The stubborn player keeps its side open after the station's FIN.
    stubborn.client.allowHalfOpen = true;
    stubborn.client.resume();
    const stubbornGotFin = once(stubborn.client, 'end');
    const politeGone = once(polite.client, 'close');
    const heard = collect(polite.client);
    hub.add(polite.server, false);
    hub.add(stubborn.server, false);
    source.emit('audio', Buffer.from('frame-one'));
    assert.equal(hub.count, 2);

    let closed = false;
    const first = hub.close();
    assert.equal(hub.close(), first, 'a second close() returns the first one');
    void first.then(() => (closed = true));
    assert.equal(hub.status, 'closed');
    await politeGone;
    assert.match(heard.bytes().toString('latin1'), /^HTTP\/1\.0 200 OK[\s\S]*frame-one$/);
    await stubbornGotFin;
    assert.equal(closed, false, 'still waiting for the listener that keeps its side open');
    clock.advance(250);
    await first;
    assert.equal(clock.pending, 0, 'no timer outlives close()');
    // Audio after close goes nowhere (the hub left the source).
    assert.equal(source.listenerCount('audio'), 0);
    polite.done();
    stubborn.done();
  });

  it('a listener arriving after close() is hung up on at once, sent nothing', async () => {
    const source = new Source();
    const hub = new ListenerHub(source as unknown as AudioSource, { info, logger: pino({ level: 'silent' }), timers: new FakeClock() });
    await hub.close();
    const late = await pair();
    const heard = collect(late.client);
    late.client.on('error', () => undefined);
    hub.add(late.server, true);
    await once(late.client, 'close');
    assert.equal(heard.bytes().length, 0);
    assert.equal(hub.count, 0);
    late.done();
  });
});

describe('built-in listener hub: where each listener started', () => {
  it('remembers, by session id, the stream position of the first audio a listener was sent (the burst), ignores malformed ids', async () => {
    const source = new Source();
    const hub = new ListenerHub(source as unknown as AudioSource, { info, logger: pino({ level: 'silent' }), burstBytes: 10 });
    // Chunks of 6 bytes at 0, 1 and 2 s: the burst keeps the last two (12 bytes >= 10).
    for (const [i, pos] of [0, 1, 2].entries()) source.emit('audio', Buffer.alloc(6, i), pos);
    const a = await pair();
    const heard = collect(a.client);
    hub.add(a.server, false, false, 'page-session-0123456789');
    assert.equal(hub.startOf('page-session-0123456789'), 1, 'its stream began with the 1 s chunk');
    source.emit('audio', Buffer.alloc(6, 3), 3);
    const b = await pair();
    hub.add(b.server, false, false, 'x/../../etc');
    assert.equal(hub.startOf('x/../../etc'), undefined, 'not a session id: not kept');
    const c = await pair();
    hub.add(c.server, false, false, 'second-session-abcdef');
    assert.equal(hub.startOf('second-session-abcdef'), 2);
    const aGone = once(a.client, 'close');
    await hub.close();
    await aGone;
    assert.match(heard.bytes().toString('latin1'), /\r\n\r\n\x01{6}\x02{6}/, 'the burst it was sent starts with the 1 s chunk');
    for (const p of [a, b, c]) p.done();
  });
});
