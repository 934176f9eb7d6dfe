/**
 * A source that frames its PUT body in HTTP/1.1 chunks, as curl does when
 * it uploads from a pipe: the chunks are decoded before the audio (as
 * Icecast 2.4 does), so the DJ's tone is heard clean, not the chunk size
 * lines as noise between frames.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hashPassword, writeDjFile } from '../../src/live/accounts.js';
import { listen, type Listener } from '../helpers/listener.js';
import { AUDIBLE_RMS, decodeMp3, frequencyTrack, makeTone, steadyToneWindows } from '../helpers/media.js';
import { ffmpegDj } from '../helpers/source-client.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

describe('a chunked PUT source', { timeout: 60_000 }, () => {
  let station: Awaited<ReturnType<typeof runStation>>;
  let listener: Listener;
  let procs: ChildProcess[] = [];

  before(async () => {
    const dir = tempDir('chunked');
    await makeTone({ file: path.join(dir, 's.m4a'), freq: 440, seconds: 60, args: ['-c:a', 'aac'], title: 'Music' });
    writePlaylist(dir, 'radio', { name: 'Radio', mount: '/radio.mp3', loudness: false, tracks: [{ source: 'file', path: 's.m4a' }] });
    const djs = path.join(tempDir('chunked-djs'), 'djs.json');
    await writeDjFile(djs, { djs: [{ user: 'erin', channels: ['radio'], hash: await hashPassword('erin-password'), timezone: 'UTC' }] });
    station = await runStation({ PLAYLISTS_DIR: dir, DJS_FILE: djs });
    listener = await listen(`${station.url}/radio.mp3`);
    await listener.waitForTitle((t) => t === 'Music', 20_000);
  });

  after(async () => {
    for (const p of procs) p.kill('SIGKILL');
    listener?.close();
    await station?.close();
  });

  test('curl uploading from a pipe (Transfer-Encoding: chunked): the DJ is heard clean', async () => {
    const ff = ffmpegDj('pipe:1', { seconds: 8 });
    const curl = spawn('curl', ['-sS', '-T', '-', '-H', 'Content-Type: audio/mpeg', '-u', 'erin:erin-password', `${station.url}/radio.mp3`], {
      stdio: [ff.stdout!, 'ignore', 'pipe'],
    });
    procs = [ff, curl];
    const on = await listener.waitForTitle((t) => t === 'erin', 15_000);
    await listener.when('4 s of the show', () => (listener.bytes > on.audioOffset + 4 * 16000 ? true : undefined), 15_000);
    const pcm = await decodeMp3(listener.audio().subarray(on.audioOffset + 2 * 16000, on.audioOffset + 4 * 16000));
    const windows = frequencyTrack(pcm, 44100, 20, AUDIBLE_RMS);
    const tone = steadyToneWindows(windows, 1000, 60);
    const chunked = station.logs.find(/live: erin connected/)[0];
    console.log(`# curl's chunked upload: 2 s of the show at the listener, the DJ's 1000 Hz tone in ${tone} of ${windows.length} windows of 20 ms`);
    assert.ok(chunked, 'the DJ was admitted');
    assert.ok(tone >= windows.length - 5, `the tone held in ${tone} of ${windows.length} windows: the chunk framing was heard`);
  });
});
