/**
 * The key-value cache right after start, against a real Redis: a read made
 * before the client has connected waits for that first connection (a
 * restart's first reads are a QQ playlist's kept copy and cached play
 * URLs, while api-proxy may be down); once started, a Redis that is down
 * is missed at once. Before, a read at start missed whenever the client
 * had not connected yet, and the restarted station played nothing for a
 * minute (seen once in a clean-clone run of the QQ playlist test).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { KvCache } from '../../src/kernel/kv-cache.js';
import { startRedis, type RedisHandle } from '../helpers/redis.js';

describe('the key-value cache at start', { timeout: 30_000 }, () => {
  let redis: RedisHandle;

  before(async () => {
    redis = await startRedis();
    const writer = new KvCache(redis.url, pino({ level: 'silent' }));
    await writer.get('warm-up');
    await writer.set('kept', { songs: 3 }, 60);
    await writer.close();
  });

  after(async () => {
    await redis?.stop();
  });

  test('a read made the moment the client is created finds what Redis holds', async () => {
    const cache = new KvCache(redis.url, pino({ level: 'silent' }));
    const t0 = performance.now();
    const got = await cache.get<{ songs: number }>('kept');
    const ms = performance.now() - t0;
    await cache.close();
    console.log(`# first read at start: ${JSON.stringify(got)} after ${ms.toFixed(0)} ms`);
    assert.deepEqual(got, { songs: 3 });
  });

  test('with Redis down, reads give up within the start-up grace, then miss at once', async () => {
    const cache = new KvCache('redis://127.0.0.1:9', pino({ level: 'silent' }));
    const t0 = performance.now();
    assert.equal(await cache.get('kept'), null);
    const first = performance.now() - t0;
    const t1 = performance.now();
    assert.equal(await cache.get('kept'), null);
    const second = performance.now() - t1;
    await cache.close();
    console.log(`# Redis down: first read missed after ${first.toFixed(0)} ms, the next after ${second.toFixed(0)} ms`);
    assert.ok(first < 3500, `the first read waited ${first.toFixed(0)} ms`);
    assert.ok(second < 50, `a later read waited ${second.toFixed(0)} ms`);
  });
});
