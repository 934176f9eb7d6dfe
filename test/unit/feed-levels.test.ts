import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pcmBytesFor } from '../../src/audio/pcm.js';
import { FEED_HIGH, FeedLevels, type MixState } from '../../src/playout/feed-levels.js';
import { blockChange, type NowPlaying } from '../../src/playout/now-playing.js';
import type { TrackInfo } from '../../src/acquire/track-info.js';

const idle: MixState = { live: false, djComing: false, leading: false, onAir: false };

describe('feed levels', () => {
  test('a leading song fills the most; a DJ coming or on air the least; the floor pads late only with a song on air', () => {
    const levels = new FeedLevels();
    assert.equal(levels.high({ ...idle, leading: true, onAir: true }), FEED_HIGH);
    assert.equal(levels.high(idle), pcmBytesFor(0.3));
    assert.equal(levels.high({ ...idle, leading: true, djComing: true }), pcmBytesFor(0.25));
    assert.equal(levels.floor({ ...idle, onAir: true }), pcmBytesFor(0.1));
    assert.equal(levels.floor(idle), pcmBytesFor(0.3));
  });
});

describe('block changes', () => {
  const song = (block?: string, source: TrackInfo['source'] = 'file'): TrackInfo =>
    ({ key: `k${block}`, title: 't', source, ...(block ? { block } : {}) }) as TrackInfo;
  const playing = (info: TrackInfo): NowPlaying => ({ ...info, startedAt: '2026-01-01T00:00:00.000Z' });

  test('announced when the block differs, at start, and afresh after a live show; never for the show itself', () => {
    assert.deepEqual(blockChange(null, song()), { block: null });
    assert.deepEqual(blockChange(null, song('Evening')), { block: 'Evening' });
    assert.equal(blockChange(playing(song('Evening')), song('Evening')), null);
    assert.deepEqual(blockChange(playing(song('Evening')), song()), { block: null });
    assert.equal(blockChange(playing(song()), song()), null);
    assert.equal(blockChange(playing(song('Evening')), song(undefined, 'live')), null);
    assert.deepEqual(blockChange(playing(song(undefined, 'live')), song('Evening')), { block: 'Evening' });
  });
});
