/**
 * The connection guard's order of events, replayed with stand-in sockets: the event loop accepts a
 * burst before it reads what connections accepted a turn earlier have sent.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, test } from 'node:test';
import pino from 'pino';
import { ConnectionGuard } from '../../src/api/connection-guard.js';

class FakeSocket extends EventEmitter {
  destroyed = false;
  constructor(readonly remoteAddress: string) {
    super();
  }
  destroy(): this {
    if (!this.destroyed) {
      this.destroyed = true;
      queueMicrotask(() => this.emit('close'));
    }
    return this;
  }
}

const sock = (i: number): FakeSocket => new FakeSocket(`127.9.${i >> 8}.${i & 255}`);
const admit = (g: ConnectionGuard, s: FakeSocket): boolean => g.admit(s as unknown as Socket);
const endOfTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('connection guard', () => {
  test('a burst does not evict a connection whose request is read later in the same turn', async () => {
    const guard = new ConnectionGuard({ maxConnections: 16, maxPerAddress: 0, headroom: 4 }, pino({ level: 'silent' }));
    const idle = Array.from({ length: 15 }, (_, i) => sock(i));
    for (const s of idle) assert.ok(admit(guard, s));
    await endOfTurn();
    // The health checker, accepted at the cap's last place.
    const checker = sock(100);
    assert.ok(admit(guard, checker));
    await endOfTurn();
    // Next turn: the poll accepts a burst of ten, then reads the checker's request.
    const burst = Array.from({ length: 10 }, (_, i) => sock(200 + i));
    const admitted = burst.map((s) => admit(guard, s));
    guard.busy(checker as unknown as Socket);
    assert.equal(checker.destroyed, false, 'the checker is not closed while its request may still be unread');
    assert.deepEqual(
      admitted,
      burst.map((_, i) => i < 2),
      'two places of headroom (an eighth of 16), the rest refused',
    );
    assert.equal(guard.stats.open, 18);
    await endOfTurn();
    assert.equal(checker.destroyed, false, 'the busy checker stays');
    assert.equal(guard.stats.open, 16, 'back at the cap at the end of the turn');
    assert.deepEqual(
      idle.map((s) => s.destroyed),
      idle.map((_, i) => i < 2),
      'the two oldest idle connections made the room',
    );
    assert.equal(burst[0]!.destroyed || burst[1]!.destroyed, false, 'the newcomers got in');
    assert.equal(guard.stats.evicted, 2);
    assert.equal(guard.stats.refusedTotal, 8);
    assert.equal(guard.stats.peak, 18);
  });

  test('with every connection busy a newcomer is refused; busy ones over the cap stay until they close', async () => {
    const guard = new ConnectionGuard({ maxConnections: 4, maxPerAddress: 0 }, pino({ level: 'silent' }));
    const busy = Array.from({ length: 3 }, (_, i) => sock(i));
    for (const s of busy) {
      admit(guard, s);
      guard.busy(s as unknown as Socket);
    }
    const last = sock(3);
    admit(guard, last);
    // One newcomer over the cap (headroom: an eighth of 4, rounded up), then both send their requests.
    const late = sock(4);
    assert.ok(admit(guard, late));
    assert.equal(admit(guard, sock(5)), false, 'past the headroom');
    guard.busy(last as unknown as Socket);
    guard.busy(late as unknown as Socket);
    await endOfTurn();
    assert.equal(guard.stats.open, 5, 'nobody idle to close: over the cap by the headroom until one closes');
    assert.equal(admit(guard, sock(6)), false, 'every connection busy');
    busy[0]!.destroy();
    await endOfTurn();
    assert.equal(guard.stats.open, 4);
  });
});
