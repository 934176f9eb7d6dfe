import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import pino from 'pino';
import { QqPlaylistCollection, type PlaylistProvider } from '../../src/acquire/collections/qq-playlist.js';
import type { QqPlaylist } from '../../src/kernel/api-proxy-contract.js';
import type { Track } from '../../src/config/playlist.js';
import { FakeClock } from '../helpers/fake-clock.js';

const song = (mid: string) => ({
  mid,
  title: `Song ${mid}`,
  artists: [{ mid: 'a', name: 'Artist' }],
  album: null,
  coverUrl: null,
  durationMs: 200_000,
  mediaMid: null,
  playable: true,
  qualities: [],
});

/**
 * The collection's own view of api-proxy (its PlaylistProvider interface):
 * answers with the owner's list as it stands, or fails while `down`.
 */
class Upstream implements PlaylistProvider {
  mids = ['A', 'B'];
  down = false;
  reads: { fresh: boolean }[] = [];
  private answered: (() => void) | null = null;

  playlist(id: string, opts?: { fresh?: boolean }): Promise<{ playlist: QqPlaylist; stale: string | null }> {
    this.reads.push({ fresh: opts?.fresh ?? false });
    const settle = this.answered;
    this.answered = null;
    queueMicrotask(() => settle?.());
    if (this.down) return Promise.reject(new Error('api-proxy answered 502'));
    return Promise.resolve({ playlist: { id, title: 'Mine', total: this.mids.length, songs: this.mids.map(song) }, stale: null });
  }

  lastPlaylist(): Promise<QqPlaylist | null> {
    return Promise.resolve(null);
  }

  /** Resolves once the next read has been answered and handled. */
  nextRead(): Promise<void> {
    return new Promise((resolve) => (this.answered = () => setImmediate(resolve)));
  }
}

const mids = (tracks: readonly Track[] | null) => (tracks ?? []).map((t) => (t as { id: string }).id);

describe('QQ playlist followed on a fake clock', () => {
  it('re-reads every refreshMinutes (fresh), follows the edits, keeps the songs through a failure, closes its timer', async () => {
    const clock = new FakeClock();
    const up = new Upstream();
    const entry = { source: 'qq-playlist' as const, id: '7039470358', refreshMinutes: 10 };
    const list = new QqPlaylistCollection(entry, up, pino({ level: 'silent' }), clock);
    const read = once(list, 'change');
    await read;
    assert.deepEqual(mids(list.tracks), ['A', 'B']);
    const reads = up.reads.length;

    // The owner adds a song: nothing is read before ten minutes, then it joins.
    up.mids = ['A', 'B', 'C'];
    clock.advance(9 * 60_000 + 59_999);
    assert.equal(up.reads.length, reads, 'no read before refreshMinutes');
    const changed = once(list, 'change');
    clock.advance(1);
    assert.equal(up.reads.length, reads + 1, 'read at refreshMinutes');
    await changed;
    assert.deepEqual(mids(list.tracks), ['A', 'B', 'C']);
    assert.equal(up.reads.at(-1)?.fresh, true, 'a re-read asks for the list as it is now');

    // Upstream fails: the last songs stay, and the next try is a full period later.
    up.down = true;
    const failed = up.nextRead();
    clock.advance(10 * 60_000);
    await failed;
    assert.deepEqual(mids(list.tracks), ['A', 'B', 'C'], 'a failed read keeps the last songs');
    up.down = false;
    up.mids = ['C'];
    const back = once(list, 'change');
    clock.advance(10 * 60_000);
    await back;
    assert.deepEqual(mids(list.tracks), ['C']);

    list.close();
    const after = up.reads.length;
    clock.advance(60 * 60_000);
    assert.equal(up.reads.length, after, 'no read after close()');
  });

  it('with nothing read yet, a failure is retried after a minute, not refreshMinutes', async () => {
    const clock = new FakeClock();
    const up = new Upstream();
    up.down = true;
    const failed = up.nextRead();
    const list = new QqPlaylistCollection({ source: 'qq-playlist', id: '1', refreshMinutes: 60 }, up, pino({ level: 'silent' }), clock);
    await failed;
    assert.equal(list.tracks, null);
    up.down = false;
    clock.advance(59_999);
    assert.equal(up.reads.length, 1);
    const read = once(list, 'change');
    clock.advance(1);
    assert.equal(up.reads.length, 2, 'retried at one minute');
    await read;
    assert.deepEqual(mids(list.tracks), ['A', 'B']);
    list.close();
  });
});
