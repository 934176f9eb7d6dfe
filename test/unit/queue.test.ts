import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Track } from '../../src/config/playlist.js';
import { PlayQueue } from '../../src/playout/queue.js';

const t = (name: string): Track => ({ source: 'file', path: `/m/${name}` });
const names = (xs: (Track | null)[]) => xs.map((x) => (x && x.source === 'file' ? x.path.slice(3) : null));
function seeded(seed = 42): () => number {
  return () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
}

describe('play queue', () => {
  test('sequential loops', () => {
    const q = new PlayQueue({ tracks: [t('a'), t('b'), t('c')], order: 'sequential', loop: true });
    assert.deepEqual(names(Array.from({ length: 7 }, () => q.next())), ['a', 'b', 'c', 'a', 'b', 'c', 'a']);
  });

  test('sequential without loop ends', () => {
    const q = new PlayQueue({ tracks: [t('a'), t('b')], order: 'sequential', loop: false });
    assert.deepEqual(names([q.next(), q.next(), q.next(), q.next()]), ['a', 'b', null, null]);
  });

  test('empty playlist gives nothing', () => {
    assert.equal(new PlayQueue({ tracks: [], order: 'shuffle', loop: true }).next(), null);
  });

  test('shuffle plays every song once before any repeats, and no song twice in a row across rounds', () => {
    const tracks = 'abcdefghij'.split('').map(t);
    const q = new PlayQueue({ tracks, order: 'shuffle', loop: true }, seeded());
    let last: string | null = null;
    for (let round = 0; round < 50; round++) {
      const got = names(tracks.map(() => q.next()));
      assert.deepEqual([...got].sort(), 'abcdefghij'.split(''), `round ${round}`);
      assert.notEqual(got[0], last, `round ${round} opens with the song that ended the last`);
      last = got[got.length - 1]!;
    }
  });

  test('sequential edit keeps the place after the song last dealt', () => {
    const q = new PlayQueue({ tracks: [t('a'), t('b'), t('c')], order: 'sequential', loop: true });
    assert.deepEqual(names([q.next(), q.next()]), ['a', 'b']);
    q.update({ tracks: [t('x'), t('a'), t('b'), t('y'), t('c')], order: 'sequential', loop: true });
    assert.deepEqual(names([q.next(), q.next(), q.next()]), ['y', 'c', 'x']);
  });

  test('shuffle edit keeps the round: removed songs leave it, added ones join it', () => {
    const q = new PlayQueue({ tracks: 'abcdef'.split('').map(t), order: 'shuffle', loop: true }, seeded(3));
    const played = names([q.next(), q.next()]);
    const kept = 'abcdef'.split('').filter((n) => n !== 'f');
    q.update({ tracks: [...kept, 'g'].map(t), order: 'shuffle', loop: true });
    const expected = [...kept, 'g'].filter((n) => !played.includes(n)).sort();
    const rest = names(expected.map(() => q.next()));
    assert.deepEqual([...rest].sort(), expected);
  });
});
