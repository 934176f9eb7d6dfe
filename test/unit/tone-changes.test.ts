import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withoutExcursions } from '../helpers/media.js';

test('a flip back and forth inside a crossfade is not a seam; the first change stays', () => {
  const changes = [
    { at: 13.86, to: 400 },
    { at: 25.92, to: 500 },
    { at: 37.99, to: 600 },
    { at: 39.3, to: 500 },
    { at: 39.5, to: 600 },
    { at: 49.96, to: 700 },
  ];
  assert.deepEqual(withoutExcursions(changes, 1.5), [changes[0], changes[1], changes[2], changes[5]]);
});

test('a song that really comes back, later than the window, is kept', () => {
  const changes = [
    { at: 10, to: 400 },
    { at: 20, to: 500 },
    { at: 30, to: 400 },
  ];
  assert.deepEqual(withoutExcursions(changes, 1.5), changes);
});
