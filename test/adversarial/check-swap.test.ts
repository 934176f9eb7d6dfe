/**
 * Attack: the moment between checking a file in a watched folder and
 * playing it. A song already checked and waiting its turn is replaced by a
 * link to a file outside the allowed folders (rename over it, atomically,
 * as an attacker with write access to the folder would); a `folder` entry
 * that is itself a link leads outside. The outside file (a 3000 Hz tone)
 * must never reach a listener; the checked song plays as it was checked.
 */
import assert from 'node:assert/strict';
import { renameSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { listen, type Listener } from '../helpers/listener.js';
import { AUDIBLE_RMS, decodeMp3, frequencyTrack, makeTone, steadyToneWindows } from '../helpers/media.js';
import { until } from '../helpers/ports.js';
import { startStationProcess, type StationProcess } from '../helpers/station-process.js';
import { tempDir, writePlaylist } from '../helpers/station.js';

const SECRET_HZ = 3000;

async function channel(station: StationProcess, id: string): Promise<{ nowPlaying: { title: string } | null; next: { title: string } | null }> {
  return (await (await fetch(`${station.url}/api/channels/${id}`)).json()) as never;
}

describe('adversarial: check, then swap', { timeout: 120_000 }, () => {
  let station: StationProcess;
  let listener: Listener;
  let dir: string;
  let secret: string;

  before(async () => {
    dir = tempDir('swap');
    const outside = tempDir('swap-outside');
    secret = await makeTone({ file: path.join(outside, 'secret.m4a'), freq: SECRET_HZ, seconds: 8, args: ['-c:a', 'aac'], title: 'Secret' });
    // The first song is long enough that the second's decoder has not started when it is swapped.
    await makeTone({ file: path.join(dir, 'a.m4a'), freq: 440, seconds: 12, args: ['-c:a', 'aac'], title: 'Aye' });
    await makeTone({ file: path.join(dir, 'b.m4a'), freq: 550, seconds: 5, args: ['-c:a', 'aac'], title: 'Bee' });
    await makeTone({ file: path.join(dir, 'c.m4a'), freq: 660, seconds: 5, args: ['-c:a', 'aac'], title: 'Cee' });
    writePlaylist(dir, 'swap', {
      name: 'Swap',
      mount: '/swap.mp3',
      loudness: false,
      tracks: ['a', 'b', 'c'].map((n) => ({ source: 'file', path: `${n}.m4a` })),
    });
    symlinkSync(outside, path.join(dir, 'linkdir'));
    writePlaylist(dir, 'linked', { name: 'Linked', mount: '/linked.mp3', loudness: false, tracks: [{ source: 'folder', path: 'linkdir' }] });
    station = await startStationProcess({ PLAYLISTS_DIR: dir, CACHE_DIR: tempDir('swap-cache') });
    listener = await listen(`${station.url}/swap.mp3`);
  });

  after(async () => {
    listener?.close();
    await station?.close();
  });

  test('a song checked and waiting, replaced by a link to a file outside: the checked song plays, the outside file never does', async () => {
    // "Bee" is checked and waiting once the API names it (by its tag title) as next.
    await until(
      'a.m4a on air, b.m4a checked and waiting',
      async () => {
        const c = await channel(station, 'swap');
        return c.next?.title === 'Bee' && c.nowPlaying?.title === 'Aye' ? true : undefined;
      },
      20_000,
    );
    const tmp = path.join(dir, '.swap-link.m4a');
    symlinkSync(secret, tmp);
    renameSync(tmp, path.join(dir, 'b.m4a'));
    const from = listener.bytes;
    await listener.waitForTitle((t) => t === 'Cee', 40_000);
    await listener.when('a second of Cee', () => (listener.bytes > listener.titles.at(-1)!.audioOffset + 16_000 ? true : undefined), 10_000);
    const pcm = await decodeMp3(listener.audio().subarray(from));
    const windows = frequencyTrack(pcm, 44100, 20, AUDIBLE_RMS);
    const secretWindows = steadyToneWindows(windows, SECRET_HZ);
    const beeWindows = steadyToneWindows(windows, 550, 60);
    console.log(
      `# after the swap: the outside file's tone in ${secretWindows} windows of 20 ms, the checked song's in ${beeWindows}; titles ${listener.titles.map((t) => t.title).join(' > ')}`,
    );
    assert.equal(secretWindows, 0, `the outside file was on air in ${secretWindows} windows of 20 ms`);
    assert.ok(beeWindows > 150, `the checked song was heard in ${beeWindows} windows (5 s is 250)`);
    // Its next turn: the name now leads outside, and is refused with the reason.
    const skipped = await station.when('b.m4a refused at its next turn', () => station.find(/song skipped/).find((l) => /b\.m4a/.test(String(l.song))), 40_000);
    assert.match(String(skipped.err), /outside the allowed folders/);
    assert.equal(station.find(/caught by the process guard/).length, 0);
  });

  test('a folder entry that is itself a link to a folder outside is not read, and says why', async () => {
    const refused = await station.when('the linked folder refused', () => station.find(/folder not read/)[0], 10_000);
    assert.match(String(refused.why), /outside the allowed folders/);
    const listed = station.find(/folder read/).filter((l) => String(l.folder).endsWith('linkdir') && Number(l.songs) > 0);
    assert.equal(listed.length, 0, 'no file of the outside folder was listed');
    assert.equal((await channel(station, 'linked')).nowPlaying, null);
  });
});
