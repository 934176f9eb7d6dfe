/**
 * The worst moment for a takeover, with a real source client: a DJ
 * connecting in the first half of a 3 s crossfade, when the incoming song
 * is fading in but listeners have not seen its title yet (the moment the
 * fake-clock sweeps found hardest: shows logged as ended while still
 * connected, the DJ chopped, the incoming song lost). Recorded as a player
 * hears it: the show stays on air as long as ffmpeg sends, its title is
 * up while it plays, the song it cut comes back after it, and there is no
 * silence anywhere.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hashPassword, writeDjFile } from '../../src/live/accounts.js';
import { listen, type Listener } from '../helpers/listener.js';
import { decodeMp3, frequencyTrack, makeTone, silentRuns, steadyToneWindows, AUDIBLE_RMS } from '../helpers/media.js';
import { ffmpegDj } from '../helpers/source-client.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

const A = 440;
const B = 660;
const C = 880;
const DJ = 1000;
/** 128 kbit/s CBR at the listener. */
const BYTES_PER_SECOND = 16_000;

describe('a DJ taking over in the first half of a 3 s crossfade (real client)', { timeout: 90_000 }, () => {
  let station: Awaited<ReturnType<typeof runStation>>;
  let listener: Listener;
  let dj: ChildProcess | null = null;

  before(async () => {
    const dir = tempDir('live-xfade');
    await makeTone({ file: path.join(dir, 'a.m4a'), freq: A, seconds: 7, args: ['-c:a', 'aac'], title: 'A' });
    await makeTone({ file: path.join(dir, 'b.m4a'), freq: B, seconds: 14, args: ['-c:a', 'aac'], title: 'B' });
    await makeTone({ file: path.join(dir, 'c.m4a'), freq: C, seconds: 14, args: ['-c:a', 'aac'], title: 'C' });
    writePlaylist(dir, 'radio', {
      name: 'Radio',
      mount: '/radio.mp3',
      loudness: false,
      crossfade: 3,
      tracks: ['a', 'b', 'c'].map((n) => ({ source: 'file', path: `${n}.m4a` })),
    });
    const djs = path.join(tempDir('live-xfade-djs'), 'djs.json');
    await writeDjFile(djs, { djs: [{ user: 'dana', channels: ['radio'], hash: await hashPassword('dana-password'), timezone: 'UTC' }] });
    station = await runStation({ PLAYLISTS_DIR: dir, DJS_FILE: djs });
    listener = await listen(`${station.url}/radio.mp3`);
  });

  after(async () => {
    dj?.kill('SIGKILL');
    listener?.close();
    await station?.close();
  });

  test('the show plays whole while ffmpeg sends; the song it cut comes back after it; no silence', async () => {
    const a = await listener.waitForTitle((t) => t === 'A', 20_000);
    // A is 7 s: its overlap with B runs from 4 s to 7 s of A. Listeners hear ~0.8 s behind the mix (what is queued),
    // so connecting 4.3 s into A as heard puts the takeover ~5.1 s into A at the mix: the first half of the overlap.
    const aHeardAt = listener.arrivalOf(a.audioOffset) ?? a.at;
    await new Promise((r) => setTimeout(r, Math.max(0, aHeardAt + 4300 - Date.now())));
    const connectedAt = Date.now();
    dj = ffmpegDj(`icecast://dana:dana-password@127.0.0.1:${new URL(station.url).port}/radio.mp3`, { seconds: 8, freq: DJ });
    const show = await listener.waitForTitle((t) => t === 'dana', 10_000);
    const [code] = (await once(dj, 'exit')) as [number | null];
    assert.equal(code, 0, 'ffmpeg sent its 8 s and left by itself');
    const leftAt = Date.now();
    const off = await station.logs.when('the show ended', () => station.logs.find(/live: dana off/)[0], 10_000);
    assert.equal(off.reason, 'the DJ disconnected', 'ended by the DJ leaving, not cut short');
    // What follows the show: the first title after the DJ's (B's title may also have gone up before it, when sign-in
    // and decoding took long enough for the overlap's middle to reach listeners first; B is then still fading in when
    // cut, and comes back all the same).
    const showAt = listener.titles.indexOf(show);
    const back = await listener.when('the playlist after the show', () => listener.titles.slice(showAt + 1)[0], 15_000);
    // Three seconds of what follows the show.
    await listener.when('3 s after the show', () => (listener.bytes > back.audioOffset + 3 * BYTES_PER_SECOND ? true : undefined), 10_000);

    const titlesFromA = listener.titles.slice(listener.titles.indexOf(a)).map((t) => t.title);
    const pcm = await decodeMp3(listener.audio().subarray(a.audioOffset));
    const track = frequencyTrack(pcm, 44100, 20, AUDIBLE_RMS);
    const at = (offset: number): number => Math.floor((offset - a.audioOffset) / BYTES_PER_SECOND / 0.02);
    const showWindows = steadyToneWindows(track.slice(at(show.audioOffset), at(back.audioOffset)), DJ, 100);
    const afterShow = track.slice(at(back.audioOffset) + 25);
    const silences = silentRuns(pcm).filter((r) => r.ms > 50);
    console.log(
      `# connected ${connectedAt - aHeardAt} ms into A as heard; titles ${titlesFromA.join(' > ')}; the show's tone in ${showWindows} windows of 20 ms; ` +
        `the show ended ${Math.round(((off.seconds as number) ?? 0) * 1000)} ms after it began, ${Date.now() - leftAt} ms ago; after it: ${back.title}; silences over 50 ms: ${silences.length}`,
    );
    assert.ok((off.seconds as number) >= 6.5, `the show lasted ${String(off.seconds)} s of the 8 s sent`);
    assert.ok(showWindows >= 300, `the DJ heard in ${showWindows} windows of 20 ms (6 s or more of the 8 s sent)`);
    assert.equal(back.title, 'B', 'B, cut while it faded in, plays after the show');
    assert.ok(steadyToneWindows(afterShow, B, 100) >= 100, "B's tone follows the show");
    assert.equal(steadyToneWindows(afterShow, C, 100), 0, 'C has not started');
    assert.deepEqual(silences, [], 'no silence at the listener');
  });
});
