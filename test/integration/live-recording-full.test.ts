/**
 * A show recorded to a disk that fills up: the recording stops with a
 * warning, the show goes on for its listeners, and the show's record says
 * the recording was cut short (it was listed as complete). The recordings
 * folder is a 96 KiB tmpfs mounted by the test (it runs as root, as CI
 * does): about 6 s of a 128 kbit/s show.
 */
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hashPassword, writeDjFile } from '../../src/live/accounts.js';
import { listen, type Listener } from '../helpers/listener.js';
import { makeTone } from '../helpers/media.js';
import { until } from '../helpers/ports.js';
import { ffmpegDj } from '../helpers/source-client.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

describe('a recording cut short by a full disk', { timeout: 90_000 }, () => {
  let station: Awaited<ReturnType<typeof runStation>>;
  let listener: Listener;
  let dj: ChildProcess | null = null;
  const recordings = tempDir('full-disk');

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'this test mounts a small tmpfs: it runs as root (as npm test and CI do)');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=96k', 'tmpfs', recordings]);
    const dir = tempDir('full-disk-pl');
    await makeTone({ file: path.join(dir, 's.m4a'), freq: 440, seconds: 60, args: ['-c:a', 'aac'], title: 'Music' });
    writePlaylist(dir, 'radio', { name: 'Radio', mount: '/radio.mp3', loudness: false, live: { record: true }, tracks: [{ source: 'file', path: 's.m4a' }] });
    const djs = path.join(tempDir('full-disk-djs'), 'djs.json');
    await writeDjFile(djs, { djs: [{ user: 'fay', channels: ['radio'], hash: await hashPassword('fay-password'), timezone: 'UTC' }] });
    station = await runStation({ PLAYLISTS_DIR: dir, DJS_FILE: djs, RECORDINGS_DIR: recordings });
    listener = await listen(`${station.url}/radio.mp3`);
    await listener.waitForTitle((t) => t === 'Music', 20_000);
  });

  after(async () => {
    dj?.kill('SIGKILL');
    listener?.close();
    await station?.close();
    execFileSync('umount', [recordings]);
  });

  test('the recording stops with a warning, the show plays on, and its record says it was cut short', async () => {
    dj = ffmpegDj(`icecast://fay:fay-password@127.0.0.1:${new URL(station.url).port}/radio.mp3`, { seconds: 12 });
    const on = await listener.waitForTitle((t) => t === 'fay', 15_000);
    const stopped = await station.logs.when('the recording stopped', () => station.logs.find(/recording stopped before the show/)[0], 20_000);
    const onAt = listener.titles.indexOf(on);
    await listener.when('the playlist back', () => listener.titles.slice(onAt + 1).find((t) => t.title === 'Music'), 30_000);
    await until(
      'the show closed',
      async () => {
        const view = (await (await fetch(`${station.url}/api/channels/radio`)).json()) as { shows: { dj: string; seconds: number | null }[] };
        return view.shows.find((s) => s.dj === 'fay' && s.seconds !== null) ? true : undefined;
      },
      10_000,
    );
    const shows = (
      (await (await fetch(`${station.url}/api/channels/radio`)).json()) as {
        shows: { dj: string; seconds: number; recording: string | null; recordingError: string | null }[];
      }
    ).shows;
    const show = shows.find((s) => s.dj === 'fay')!;
    const heard = (listener.titles.at(-1)!.audioOffset - on.audioOffset) / 16_000;
    console.log(
      `# full disk: recording stopped (${String(stopped.err)}); the show ran ${show.seconds} s, heard ${heard.toFixed(1)} s; its record: ${show.recordingError}`,
    );
    assert.match(String(stopped.err), /ENOSPC/);
    assert.ok(show.recording, 'the recording is named');
    assert.match(show.recordingError ?? '', /stopped after \d+ bytes: .*ENOSPC/);
    assert.ok(heard > 10, `listeners heard ${heard.toFixed(1)} s of a 12 s show`);
    assert.equal(station.logs.find(/live: show recorded/).length, 0, 'not logged as a complete recording');
  });
});
