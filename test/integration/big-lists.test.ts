/**
 * Big collections arriving while a channel plays: a folder of 10 000 files
 * and a QQ playlist of 1 000 songs are read without the listener hearing a
 * gap or the clock slipping, and a change in one folder re-reads that
 * folder, not the 10 000.
 */
import assert from 'node:assert/strict';
import { linkSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { listen } from '../helpers/listener.js';
import { decodeMp3, makeTone, silentRuns } from '../helpers/media.js';
import { until } from '../helpers/ports.js';
import { startProxy } from '../helpers/proxy.js';
import { startStandin } from '../helpers/qq-standin.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

describe('big lists load without touching the audio', { timeout: 180_000 }, () => {
  test('a folder of 10 000 files and a QQ playlist of 1 000 songs join a playing channel; one new file re-reads one folder', async (t) => {
    const dir = tempDir('big');
    const song = await makeTone({ file: path.join(dir, 'steady.mp3'), freq: 440, seconds: 60, args: ['-c:a', 'libmp3lame'], title: 'Steady' });
    const library = path.join(dir, 'library');
    // 100 folders of 100 files: links to one file, each a regular file to the station.
    for (let a = 0; a < 100; a++) {
      mkdirSync(path.join(library, `artist-${a}`), { recursive: true });
      for (let s = 0; s < 100; s++) linkSync(song, path.join(library, `artist-${a}`, `${String(s).padStart(3, '0')}.mp3`));
    }
    const mids = Array.from({ length: 1000 }, (_, i) => `BIG${String(i).padStart(11, '0')}`);
    const standin = await startStandin(
      mids.map((mid, i) => ({ mid, title: `Song ${i}`, singer: [{ mid: `s${i % 50}`, name: `Singer ${i % 50}` }], interval: 200 })),
      { '9100000001': { title: 'A thousand', mids, shape: 'mixed' } },
    );
    const proxy = await startProxy({ QQ_API_BASE: standin.base, QQ_C_BASE: standin.base });
    writePlaylist(dir, 'big', { name: 'Big', mount: '/big.mp3', tracks: [{ source: 'file', path: 'steady.mp3' }] });
    const station = await runStation({ PLAYLISTS_DIR: dir, API_PROXY_URL: proxy.url, API_PROXY_TOKEN: proxy.token });
    const listener = await listen(`${station.url}/big.mp3`);
    const channel = station.station.channel('big')!;
    const loop = monitorEventLoopDelay({ resolution: 10 });
    try {
      await listener.waitForTitle((x) => x === 'Steady');
      await until('5 s on air', () => (channel.secondsSent > 5 ? true : undefined), 15_000);
      const pacingBefore = channel.pacingError;
      const standInBefore = channel.standInSeconds;
      const heardFrom = listener.bytes;
      loop.enable();
      const edited = performance.now();
      writePlaylist(dir, 'big', {
        name: 'Big',
        mount: '/big.mp3',
        order: 'shuffle',
        tracks: [
          { source: 'file', path: 'steady.mp3' },
          { source: 'folder', path: 'library' },
          { source: 'qq-playlist', id: '9100000001' },
        ],
      });
      const folder = await station.logs.when('the folder read', () => station.logs.find(/folder read/).find((l) => l.songs === 10_000), 30_000);
      const qq = await station.logs.when('the QQ playlist read', () => station.logs.find(/QQ playlist read/).find((l) => l.songs === 1000), 30_000);
      const loadedMs = Math.round(performance.now() - edited);
      await listener.when('2 s more on air', () => (listener.bytes > heardFrom + 2 * 16_000 ? true : undefined), 10_000);
      loop.disable();
      const pacingAfter = channel.pacingError;
      const maxLoopMs = Math.round(loop.max / 1e6);
      // One new file in one folder of the hundred.
      const before = station.logs.find(/folder read/).length;
      const added = performance.now();
      linkSync(song, path.join(library, 'artist-42', 'new.mp3'));
      const again = await until(
        'the new file read',
        () =>
          station.logs
            .find(/folder read/)
            .slice(before)
            .find((l) => l.songs === 10_001),
        10_000,
      );
      const addedMs = Math.round(performance.now() - added);
      assert.equal(again.ms, undefined, 'a change re-reads its own folder (a full read logs how long it took)');
      // What the listener heard across all of it: one steady tone, no silence.
      const pcm = await decodeMp3(listener.audio().subarray(heardFrom));
      const gaps = silentRuns(pcm, 44_100).filter((g) => g.ms > 20);
      t.diagnostic(
        `10 000 files read in ${folder.ms} ms, 1 000 QQ songs (both item shapes) in view ${loadedMs} ms after the edit; event loop delay max ${maxLoopMs} ms while loading; pacing error ${Math.round(pacingBefore * 1000)} ms before, ${Math.round(pacingAfter * 1000)} ms after; stand-in frames while loading ${Math.round((channel.standInSeconds - standInBefore) * 1000)} ms (${Math.round(standInBefore * 1000)} ms before); one new file picked up in ${addedMs} ms (its folder alone re-read); silences heard: ${gaps.length}`,
      );
      assert.deepEqual(gaps, [], 'the listener heard no gap while the lists loaded');
      assert.ok(Math.abs(pacingAfter - pacingBefore) < 0.25, `the clock did not slip (${pacingBefore} -> ${pacingAfter} s)`);
      assert.equal(channel.standInSeconds - standInBefore, 0, 'no stand-in frames while loading: the encoder always had audio in time');
      assert.ok(Number(qq.songs) === 1000 && standin.calls.get('music.srfDissInfo.aiDissInfo.uniform_get_Dissinfo') === 1, 'the playlist was asked for once');
    } finally {
      listener.close();
      await station.close();
      await proxy.close();
      await standin.close();
    }
  });
});
