/**
 * A QQ Music playlist followed as its owner edits it, end to end: station ->
 * api-proxy -> the QQ stand-in (answering in the real shapes, items in both
 * of them) -> the stand-in CDN -> ffmpeg -> a listener; Redis real.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { listen } from '../helpers/listener.js';
import { makeTone } from '../helpers/media.js';
import { startProxy } from '../helpers/proxy.js';
import { startRedis } from '../helpers/redis.js';
import { startStandin } from '../helpers/qq-standin.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

describe('a QQ playlist kept in sync', { timeout: 180_000 }, () => {
  test('songs added upstream join, removed ones leave, VIP-only ones are left out with their reason; a restart with the proxy down plays the kept copy', async (t) => {
    const media = tempDir('qq-sync-media');
    const tone = (n: string, f: number) => makeTone({ file: path.join(media, `${n}.m4a`), freq: f, seconds: 2, args: ['-c:a', 'aac'] });
    const standin = await startStandin(
      [
        { mid: 'PPP00000000001', title: 'One', singer: [{ mid: 's1', name: 'Singer' }], interval: 2, file: await tone('1', 440) },
        { mid: 'PPP00000000002', title: 'Two', singer: [{ mid: 's2', name: 'Band' }], interval: 2, file: await tone('2', 550) },
        { mid: 'PPP00000000003', title: 'Three', singer: [{ mid: 's3', name: 'Trio' }], interval: 2, file: await tone('3', 660) },
        { mid: 'VVV00000000009', title: 'Members Only', singer: [{ mid: 's9', name: 'Paid' }], interval: 2, behaviour: 'vip' },
      ],
      { '9000000001': { title: 'Owner list', mids: ['PPP00000000001', 'VVV00000000009', 'PPP00000000002'], shape: 'mixed' } },
    );
    const redis = await startRedis();
    const proxy = await startProxy({ QQ_API_BASE: standin.base, QQ_C_BASE: standin.base, REDIS_URL: redis.url });
    const dir = tempDir('qq-sync');
    const cache = tempDir('qq-sync-cache');
    writePlaylist(dir, 'owner', { name: 'Owner', mount: '/owner.mp3', tracks: [{ source: 'qq-playlist', id: '9000000001', refreshMinutes: 0.25 }] });
    const env = { PLAYLISTS_DIR: dir, API_PROXY_URL: proxy.url, API_PROXY_TOKEN: proxy.token, REDIS_URL: redis.url, CACHE_DIR: cache };
    let station = await runStation(env);
    try {
      const listener = await listen(`${station.url}/owner.mp3`);
      await listener.waitForTitle((x) => x === 'Singer - One', 20_000);
      await listener.waitForTitle((x) => x === 'Band - Two', 20_000);
      const left = station.logs.find(/left out: the service says they cannot be played/)[0];
      assert.ok(left, 'the VIP-only song is left out with a log line');
      assert.deepEqual(left.songs, ['VVV00000000009']);
      assert.equal(left.reason, 'SCAST_SONG_NOT_PLAYABLE');
      // The owner edits the list: Two removed, Three added.
      const edited = Date.now();
      standin.playlists.set('9000000001', { title: 'Owner list', mids: ['PPP00000000001', 'PPP00000000003'] });
      const changed = await station.logs.when('the edit is seen', () => station.logs.find(/QQ playlist changed upstream/)[0], 30_000);
      assert.equal(changed.added, 1);
      assert.equal(changed.removed, 1);
      t.diagnostic(`upstream edit seen by the station ${Date.now() - edited} ms after it was made (refreshMinutes 0.25)`);
      const from = listener.titles.length;
      await listener.waitForTitle((x) => x === 'Trio - Three', 20_000);
      await listener.when('a few more songs', () => (listener.titles.length >= from + 4 ? true : undefined), 30_000);
      const after = listener.titles.slice(from + 1).map((x) => x.title);
      assert.ok(!after.includes('Band - Two'), `the removed song no longer plays: ${after.join(', ')}`);
      const history = station.station.channel('owner')!.history;
      assert.ok(
        history.every((h) => h.end === undefined),
        'no song was cut by the change',
      );
      assert.equal(station.logs.find(/song skipped/).length, 0, 'nothing failed: the VIP song was never tried');
      listener.close();
      await station.close();

      // The proxy goes away; a restarted station plays the list it kept (in Redis), with play URLs cached beside it.
      await proxy.close();
      station = await runStation(env);
      const again = await listen(`${station.url}/owner.mp3`);
      const title = await again.waitForTitle((x) => x === 'Singer - One' || x === 'Trio - Three', 20_000);
      assert.ok(title);
      // Read from the copy kept in Redis: at once if Redis answered before the proxy's failure, else as that failure's fallback.
      const read = station.logs.find(/QQ playlist read/)[0]!;
      assert.ok(read.how === 'kept from the last run' || read.how === 'kept', `the kept copy plays (${String(read.how)})`);
      again.close();
    } finally {
      await station.close();
      await proxy.close().catch(() => undefined);
      await redis.stop();
      await standin.close();
    }
  });
});
