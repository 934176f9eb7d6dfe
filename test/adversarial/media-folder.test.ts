/**
 * Attack: what someone who can write into a watched media folder (a shared
 * drive, a sync tool, a careless upload) can leave there for a `folder`
 * entry to pick up. Links out of the allowed folders, a link looping back,
 * a FIFO, a sparse file of gigabytes, playlists and concat scripts dressed
 * as songs (ffmpeg would follow them to a file outside), names made to look
 * like options or protocols, hidden files, and a burst of files coming and
 * going: none may block or flood the station, and nothing outside the
 * allowed folders, or hidden, may reach the air.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Listener } from '../helpers/listener.js';
import { AUDIBLE_RMS, decodeMp3, frequencyTrack, steadyToneWindows, makeTone } from '../helpers/media.js';
import { until } from '../helpers/ports.js';
import { rateWatch, startStationProcess, type StationProcess, steadyListener } from '../helpers/station-process.js';
import { tempDir, writePlaylist } from '../helpers/station.js';

const SECRET_HZ = 3000;
const HIDDEN_HZ = 3500;
/** The songs that belong on air, by name, with their tones. */
const GOOD = [
  { name: 'a-ok.m4a', hz: 440 },
  { name: '-i.m4a', hz: 550 },
  { name: 'concat:x|y.m4a', hz: 660 },
  { name: 'line\nbreak.m4a', hz: 770 },
  { name: 'sub/z-ok.m4a', hz: 880 },
];

describe('adversarial: a watched media folder', { timeout: 150_000 }, () => {
  let station: StationProcess;
  let listener: Listener;
  let watch: ReturnType<typeof rateWatch>;
  const playlists = tempDir('media-folder-pl');
  const media = tempDir('media-folder-media');
  const lib = path.join(media, 'lib');
  const outside = tempDir('media-folder-outside');
  let secret = '';

  before(async () => {
    mkdirSync(path.join(lib, 'sub'), { recursive: true });
    for (const g of GOOD) await makeTone({ file: path.join(lib, g.name), freq: g.hz, seconds: 1.5, args: ['-c:a', 'aac'], title: `Tone ${g.hz}` });
    secret = await makeTone({ file: path.join(outside, 'secret.m4a'), freq: SECRET_HZ, seconds: 2, args: ['-c:a', 'aac'], title: 'SECRET' });
    await makeTone({ file: path.join(lib, '.hidden.m4a'), freq: HIDDEN_HZ, seconds: 2, args: ['-c:a', 'aac'], title: 'HIDDEN' });
    // Links: a song and a folder outside the allowed folders, a loop back to the folder, /dev/zero.
    symlinkSync(secret, path.join(lib, 'link-out.m4a'));
    symlinkSync(outside, path.join(lib, 'outdir'));
    symlinkSync(lib, path.join(lib, 'sub', 'loop'));
    symlinkSync('/dev/zero', path.join(lib, 'zero.mp3'));
    // Not files at all, or too big to be a song.
    execFileSync('mkfifo', [path.join(lib, 'fifo.mp3')]);
    execFileSync('truncate', ['-s', '3G', path.join(lib, 'sparse.flac')]);
    // Playlists and scripts under a song's name, naming the secret file: ffmpeg would follow them.
    writeFileSync(path.join(lib, 'hls.m4a'), `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:2,\nfile:${secret}\n#EXT-X-ENDLIST\n`);
    writeFileSync(path.join(lib, 'ffconcat.mp3'), `ffconcat version 1.0\nfile '${secret}'\n`);
    writeFileSync(path.join(lib, 'list.m3u.mp3'), `#EXTM3U\n${secret}\n`);
    writePlaylist(playlists, 'lib', { name: 'Library', mount: '/lib.mp3', tracks: [{ source: 'folder', path: lib }] });
    station = await startStationProcess({ PLAYLISTS_DIR: playlists, MEDIA_DIRS: media, CACHE_DIR: tempDir('media-folder-cache'), MAX_FILE_MB: '100' });
    listener = await steadyListener(`${station.url}/lib.mp3`);
    watch = rateWatch(listener, 128);
  });

  after(async () => {
    listener?.close();
    await station?.close();
  });

  test('the folder is read without following links out or around, hidden files and FIFOs left out', async () => {
    const read = await station.when('the folder is read', () => station.find(/folder read/)[0], 10_000);
    // The good songs, the link to a file (checked when it is prepared), the sparse file and the three scripts; nothing else.
    assert.equal(read.songs, GOOD.length + 6, JSON.stringify(read));
    assert.ok(station.alive());
  });

  test('each hazard is skipped with its reason; only the good songs are heard, in full', async () => {
    await listener.when('two rounds', () => (listener.titles.filter((t) => t.title.includes('Tone 440')).length >= 2 ? true : undefined), 60_000);
    const skipped = station.find(/song skipped/).map((l) => String(l.err));
    const why = (name: string) => skipped.find((e) => e.includes(`/${name}`)) ?? `(not skipped: ${name}) ${JSON.stringify(skipped)}`;
    assert.match(why('link-out.m4a'), /outside the allowed folders/);
    assert.match(why('zero.mp3'), /outside the allowed folders/);
    assert.match(why('sparse.flac'), /over the 104857600-byte limit/);
    for (const script of ['hls.m4a', 'ffconcat.mp3', 'list.m3u.mp3']) assert.match(why(script), /probe|no audio|invalid data|format/i, script);
    const heard = new Set(listener.titles.map((t) => t.title));
    for (const g of GOOD)
      assert.ok(
        [...heard].some((t) => t.includes(`Tone ${g.hz}`)),
        `${JSON.stringify(g.name)} was heard (titles: ${JSON.stringify([...heard])})`,
      );
    for (const t of heard) assert.doesNotMatch(t, /SECRET|HIDDEN|[\r\n]/, 'no secret or hidden title, no line break on air');
    const pcm = await decodeMp3(listener.audio());
    const track = frequencyTrack(pcm, 44100, 20, AUDIBLE_RMS);
    assert.equal(steadyToneWindows(track, SECRET_HZ, 200), 0, 'the file outside the allowed folders was never on air');
    assert.equal(steadyToneWindows(track, HIDDEN_HZ, 200), 0, 'the hidden file was never on air');
    assert.ok(watch.deficitMs() < 300, `listener ${Math.round(watch.deficitMs())} ms short of real time`);
    assert.ok(watch.maxGapMs() < 1000, `longest gap ${watch.maxGapMs()} ms`);
  });

  test('a burst of files coming and going is followed without flooding the station', async () => {
    const reads = () => station.find(/folder read/).length;
    const before = reads();
    const burst = path.join(lib, 'burst');
    mkdirSync(burst);
    // 2 000 files made and removed as fast as the file system allows: change events by the thousand.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 1000; i++) writeFileSync(path.join(burst, `f${i}.mp3`), 'not audio');
      for (let i = 0; i < 1000; i++) rmSync(path.join(burst, `f${i}.mp3`));
    }
    rmSync(burst, { recursive: true });
    // Then one real song: the folder is still followed after the burst.
    await makeTone({ file: path.join(lib, 'after.m4a'), freq: 440, seconds: 1, args: ['-c:a', 'aac'], title: 'After' });
    const settled = await until(
      'the new song is read',
      () =>
        station
          .find(/folder read/)
          .slice(before)
          .find((l) => l.songs === GOOD.length + 7),
      10_000,
    );
    const published = reads() - before;
    console.log(`# 4000 changes in a burst, then one song: ${published} new song lists, the last with ${settled.songs} songs`);
    assert.ok(published <= 10, `the burst was batched: ${published} new song lists`);
    assert.ok(station.alive());
    assert.ok(watch.maxGapMs() < 1000, `longest gap ${watch.maxGapMs()} ms`);
  });
});
