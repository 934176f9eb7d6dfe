/**
 * A DJ's hours hold for the whole show, not only at sign-in: a show that
 * runs past the end of its DJ's window is ended there, with the reason,
 * and the playlist takes the air back. The wall clock is the station's
 * injected one, set a few seconds before the window ends.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hashPassword, writeDjFile } from '../../src/live/accounts.js';
import { listen, type Listener } from '../helpers/listener.js';
import { makeTone } from '../helpers/media.js';
import { ffmpegDj } from '../helpers/source-client.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

describe("a DJ's hours end the show", { timeout: 60_000 }, () => {
  let station: Awaited<ReturnType<typeof runStation>>;
  let listener: Listener;
  let dj: ChildProcess | null = null;
  // Today, 10:59:50 UTC; the DJ's window is 10:00-11:00 today.
  const today = new Date();
  let wall = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate(), 10, 59, 50);
  const dayName = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][today.getUTCDay()] as 'mon';

  before(async () => {
    const dir = tempDir('hours');
    await makeTone({ file: path.join(dir, 's.m4a'), freq: 440, seconds: 60, args: ['-c:a', 'aac'], title: 'Music' });
    writePlaylist(dir, 'radio', { name: 'Radio', mount: '/radio.mp3', loudness: false, tracks: [{ source: 'file', path: 's.m4a' }] });
    const djs = path.join(tempDir('hours-djs'), 'djs.json');
    await writeDjFile(djs, {
      djs: [
        {
          user: 'dana',
          channels: ['radio'],
          hash: await hashPassword('dana-password'),
          timezone: 'UTC',
          windows: [{ days: [dayName], from: '10:00', to: '11:00' }],
        },
      ],
    });
    station = await runStation({ PLAYLISTS_DIR: dir, DJS_FILE: djs }, undefined, { liveClock: () => new Date(wall) });
    listener = await listen(`${station.url}/radio.mp3`);
    await listener.waitForTitle((t) => t === 'Music', 20_000);
  });

  after(async () => {
    dj?.kill('SIGKILL');
    listener?.close();
    await station?.close();
  });

  test('a show running past 11:00 is ended at its DJ window, and the playlist returns', async () => {
    dj = ffmpegDj(`icecast://dana:dana-password@127.0.0.1:${new URL(station.url).port}/radio.mp3`, { seconds: 60 });
    await listener.waitForTitle((t) => t === 'dana', 15_000);
    wall += 11_000;
    const endedAt = Date.now();
    const off = await station.logs.when('the show ended', () => station.logs.find(/live: dana off/)[0], 10_000);
    const tookMs = Date.now() - endedAt;
    assert.match(String(off.reason), /outside DJ dana's hours \(\w+ 10:00-11:00, UTC\)/);
    await listener.waitForTitle((t) => t === 'Music', 15_000);
    console.log(`# the window closed; the show ended ${tookMs} ms later (checked every 5 s), the playlist back on air`);
    assert.ok(tookMs <= 6000, `the show ended ${tookMs} ms after its window`);
  });
});
