/**
 * Attack: what someone with write access to the playlists folder (or a
 * careless sync tool) can leave there. FIFOs and devices must not block or
 * flood the station, links out of the folder must not be followed, a sparse
 * file of gigabytes must not be read, and edits to good playlists must keep
 * applying meanwhile.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Listener } from '../helpers/listener.js';
import { AUDIBLE_RMS, decodeMp3, frequencyTrack, steadyToneWindows, makeTone } from '../helpers/media.js';
import { until } from '../helpers/ports.js';
import { rateWatch, startStationProcess, type StationProcess, steadyListener } from '../helpers/station-process.js';
import { tempDir, writePlaylist } from '../helpers/station.js';

const SECRET_HZ = 3000;

describe('adversarial: the playlists folder', { timeout: 120_000 }, () => {
  let station: StationProcess;
  let listener: Listener;
  let watch: ReturnType<typeof rateWatch>;
  const dir = tempDir('folder');
  const outside = tempDir('folder-outside');
  const good = { name: 'Good', mount: '/good.mp3', tracks: [] as unknown[] };

  before(async () => {
    await makeTone({ file: path.join(dir, 'ok.m4a'), freq: 440, seconds: 2, args: ['-c:a', 'aac'], title: 'OK' });
    await makeTone({ file: path.join(dir, 'ok2.m4a'), freq: 550, seconds: 2, args: ['-c:a', 'aac'], title: 'OK Two' });
    const secret = await makeTone({ file: path.join(outside, 'secret.m4a'), freq: SECRET_HZ, seconds: 2, args: ['-c:a', 'aac'], title: 'SECRET' });
    // Media hazards, listed by a valid playlist.
    symlinkSync(secret, path.join(dir, 'link-out.m4a'));
    symlinkSync('/dev/zero', path.join(dir, 'link-zero.m4a'));
    execFileSync('mkfifo', [path.join(dir, 'fifo.m4a')]);
    execFileSync('truncate', ['-s', '3G', path.join(dir, 'sparse.m4a')]);
    good.tracks = ['ok.m4a', 'link-out.m4a', 'link-zero.m4a', 'fifo.m4a', 'sparse.m4a', 'ok2.m4a'].map((p) => ({ source: 'file', path: p }));
    writePlaylist(dir, 'good', good);
    // Playlist hazards.
    execFileSync('mkfifo', [path.join(dir, 'fifo.json')]);
    symlinkSync('/dev/zero', path.join(dir, 'zero.json'));
    symlinkSync('/dev/urandom', path.join(dir, 'random.json'));
    writePlaylist(outside, 'elsewhere', { name: 'Elsewhere', mount: '/elsewhere.mp3', tracks: [{ source: 'file', path: secret }] });
    symlinkSync(path.join(outside, 'elsewhere.json'), path.join(dir, 'outside.json'));
    execFileSync('truncate', ['-s', '8G', path.join(dir, 'huge.json')]);
    mkdirSync(path.join(dir, 'folder.json'));
    writeFileSync(path.join(dir, 'dangling.json.tmp'), '');
    symlinkSync(path.join(dir, 'nowhere'), path.join(dir, 'dangling.json'));
    station = await startStationProcess({ PLAYLISTS_DIR: dir, CACHE_DIR: tempDir('folder-cache'), MAX_FILE_MB: '100' });
    listener = await steadyListener(`${station.url}/good.mp3`);
    watch = rateWatch(listener, 128);
  });

  after(async () => {
    listener?.close();
    await station?.close();
  });

  test('each hazard is refused once with its reason, unread, and the station stays small', async () => {
    // Three rescans (every 2 s) have looked at every file again by now.
    await until('rescans', () => (station.lines.length > 0 && Date.now() - listener.startedAt > 7000 ? true : undefined), 15_000);
    const invalid = station.find(/invalid playlist/).map((l) => String(l.msg));
    const reason = (name: string) => {
      const lines = invalid.filter((m) => m.includes(`/${name}:`));
      assert.equal(lines.length, 1, `${name} reported ${lines.length} times: ${JSON.stringify(invalid)}`);
      return lines[0]!;
    };
    assert.match(reason('fifo.json'), /not a regular file \(a FIFO\)/);
    assert.match(reason('zero.json'), /outside the allowed folders/);
    assert.match(reason('random.json'), /outside the allowed folders/);
    assert.match(reason('outside.json'), /outside the allowed folders/);
    assert.match(reason('huge.json'), /is 8589934592 bytes, over the 5242880-byte limit/);
    assert.match(reason('folder.json'), /not a regular file \(a folder\)/);
    assert.match(reason('dangling.json'), /no such file/);
    assert.equal(station.find(/channel started/).length, 1, 'only the good playlist became a channel');
    const rss = station.rssMb();
    console.log(`# ${invalid.length} refusals, station RSS ${rss.toFixed(0)} MB`);
    assert.ok(rss < 250, `RSS ${rss} MB`);
  });

  test('media behind links, FIFOs and sparse files is skipped with its reason; the secret file is never on air', async () => {
    await listener.when('a second round', () => (listener.titles.filter((t) => t.title === 'OK').length >= 2 ? true : undefined), 30_000);
    const skipped = station.find(/song skipped/).map((l) => String(l.err));
    const why = (name: string) =>
      skipped.find((e) => e.includes(`/${name} `) || e.includes(`/${name}:`)) ?? `(not skipped: ${name}) ${JSON.stringify(skipped)}`;
    assert.match(why('link-out.m4a'), /outside the allowed folders/);
    assert.match(why('link-zero.m4a'), /outside the allowed folders/);
    assert.match(why('fifo.m4a'), /not a regular file \(a FIFO\)/);
    assert.match(why('sparse.m4a'), /over the 104857600-byte limit/);
    const pcm = await decodeMp3(listener.audio());
    assert.equal(steadyToneWindows(frequencyTrack(pcm, 44100, 20, AUDIBLE_RMS), SECRET_HZ), 0, 'the linked file was not played');
    assert.ok(watch.deficitMs() < 300, `listener ${Math.round(watch.deficitMs())} ms short of real time (${(watch.share() * 100).toFixed(1)} %)`);
    assert.ok(watch.maxGapMs() < 1000, `longest gap ${watch.maxGapMs()} ms`);
  });

  test('an edit to the good playlist still applies at once', async () => {
    const t0 = Date.now();
    writePlaylist(dir, 'good', { ...good, name: 'Good, edited' });
    await station.when('edit applied', () => (station.find(/playlist updated/).length > 0 ? true : undefined), 5000);
    const took = Date.now() - t0;
    console.log(`# edit applied ${took} ms after the write`);
    assert.ok(took < 3000);
    const api = (await (await fetch(`${station.url}/api/channels/good`)).json()) as { name: string };
    assert.equal(api.name, 'Good, edited');
    assert.ok(station.alive());
  });
});
