import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Track } from '../../src/config/playlist.js';
import { PlayQueue, type Dealt } from '../../src/playout/sources/playlist/queue.js';

const t = (name: string): Track => ({ source: 'file', path: `/m/${name}` });
const names = (xs: (Dealt | null)[]) => xs.map((x) => (x && x.track.source === 'file' ? x.track.path.slice(3) : null));
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

  test('regression: an edit while two songs are dealt ahead resumes at the first of them (it skipped both)', () => {
    const q = new PlayQueue({ tracks: [t('a'), t('b'), t('c'), t('d')], order: 'sequential', loop: true });
    const playing = q.next()!;
    const ahead = [q.next()!, q.next()!]; // b, c prepared while a plays
    q.update(
      { tracks: [t('a'), t('b'), t('c'), t('d'), t('e')], order: 'sequential', loop: true },
      ahead.map((d) => d.entry),
      playing.entry,
    );
    assert.deepEqual(names([q.next(), q.next(), q.next(), q.next()]), ['b', 'c', 'd', 'e']);
  });

  test('an edit that removes the song dealt next resumes at the one after it; one that removes all dealt continues after the song on air', () => {
    const q = new PlayQueue({ tracks: [t('a'), t('b'), t('c'), t('d')], order: 'sequential', loop: true });
    const playing = q.next()!;
    const ahead = [q.next()!, q.next()!];
    q.update(
      { tracks: [t('a'), t('c'), t('d')], order: 'sequential', loop: true },
      ahead.map((d) => d.entry),
      playing.entry,
    );
    assert.deepEqual(names([q.next(), q.next()]), ['c', 'd']);
    const q2 = new PlayQueue({ tracks: [t('a'), t('b'), t('c'), t('d')], order: 'sequential', loop: true });
    const on = q2.next()!;
    const dealt = [q2.next()!, q2.next()!];
    q2.update(
      { tracks: [t('a'), t('d')], order: 'sequential', loop: true },
      dealt.map((d) => d.entry),
      on.entry,
    );
    assert.deepEqual(names([q2.next(), q2.next()]), ['d', 'a']);
  });

  test('the same file listed twice is two entries: played twice a round, in either order', () => {
    const seq = new PlayQueue({ tracks: [t('a'), t('b'), t('a')], order: 'sequential', loop: true });
    assert.deepEqual(names([seq.next(), seq.next(), seq.next(), seq.next()]), ['a', 'b', 'a', 'a']);
    const sh = new PlayQueue({ tracks: [t('a'), t('b'), t('a')], order: 'shuffle', loop: true }, seeded(7));
    for (let round = 0; round < 20; round++) assert.deepEqual(names([sh.next(), sh.next(), sh.next()]).sort(), ['a', 'a', 'b']);
  });

  test('shuffle takes dealt songs back on an edit: the round stays whole, and they come next', () => {
    const q = new PlayQueue({ tracks: 'abcdef'.split('').map(t), order: 'shuffle', loop: true }, seeded(5));
    const playing = q.next()!;
    const ahead = [q.next()!, q.next()!];
    q.update(
      { tracks: 'abcdefg'.split('').map(t), order: 'shuffle', loop: true },
      ahead.map((d) => d.entry),
      playing.entry,
    );
    const rest = [q.next()!, q.next()!, q.next()!, q.next()!, q.next()!, q.next()!];
    assert.deepEqual(
      rest.slice(0, 2).map((d) => d.entry),
      ahead.map((d) => d.entry),
      'the dealt songs still come next',
    );
    const round = names([playing, ...rest]).sort();
    assert.deepEqual(round, 'abcdefg'.split(''), 'every song once this round');
  });

  test('peek shows what next() will deal without dealing it', () => {
    const q = new PlayQueue({ tracks: 'abcd'.split('').map(t), order: 'shuffle', loop: true }, seeded(9));
    const seen = q.peek(6);
    assert.deepEqual(
      Array.from({ length: 6 }, () => q.next()!.entry),
      seen,
    );
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
