import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { PcmDecoder } from '../../src/media/decoder.js';
import { Mp3Encoder } from '../../src/media/encoder.js';
import { resolveFfmpegPath } from '../../src/media/ffmpeg-path.js';
import { childProcesses } from '../helpers/children.js';
import { makeTone } from '../helpers/media.js';
import { until } from '../helpers/ports.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

const noFfmpegLeft = (what: string) => until(what, () => (childProcesses('ffmpeg').length === 0 ? true : undefined), 5000);

// fluent-ffmpeg spawns after run() returns; a stop in that window once left
// ffmpeg blocked on a pipe forever (and the process could not exit).
describe('ffmpeg processes never outlive what started them', { timeout: 60_000 }, () => {
  test('decoders and encoders stopped before or after their process exists leave none behind', async () => {
    const dir = tempDir('procs');
    const file = await makeTone({ file: path.join(dir, 'a.m4a'), freq: 440, seconds: 5, args: ['-c:a', 'aac'] });
    const ffmpegPath = resolveFfmpegPath();
    const early = Array.from({ length: 6 }, () => new PcmDecoder(ffmpegPath, file));
    for (const d of early) d.destroy();
    const encoder = new Mp3Encoder(ffmpegPath, 128, pino({ level: 'silent' }));
    encoder.destroy();
    // And once running: a decoder blocked on its full pipe, an encoder waiting for input.
    const late = new PcmDecoder(ffmpegPath, file);
    const running = new Mp3Encoder(ffmpegPath, 128, pino({ level: 'silent' }));
    await until('both running', () => (childProcesses('ffmpeg').length >= 2 ? true : undefined), 5000);
    late.destroy();
    running.destroy();
    await Promise.all([...early.map((d) => d.done), late.done]);
    await noFfmpegLeft('every ffmpeg to exit');
  });

  test('a station closed at once, mid-song, or right after a skip leaves no ffmpeg running', async () => {
    const dir = tempDir('procs-station');
    await makeTone({ file: path.join(dir, 'a.m4a'), freq: 440, seconds: 1.5, args: ['-c:a', 'aac'] });
    await makeTone({ file: path.join(dir, 'b.m4a'), freq: 550, seconds: 1.5, args: ['-c:a', 'aac'] });
    writePlaylist(dir, 'p', { name: 'P', mount: '/p.mp3', tracks: [{ source: 'file', path: 'a.m4a' }, { source: 'file', path: 'b.m4a' }] });
    const env = { PLAYLISTS_DIR: dir, CACHE_DIR: tempDir('procs-cache') };

    const atOnce = await runStation(env);
    await atOnce.close();
    await noFfmpegLeft('ffmpeg to exit after an immediate close');

    for (let round = 0; round < 3; round++) {
      const station = await runStation(env);
      const channel = station.station.channel('p')!;
      await until('a song on air', () => (channel.nowPlaying ? true : undefined), 10_000, 5);
      if (round === 1) channel.skip();
      if (round === 2) await until('the second song', () => (channel.songsPlayed >= 2 ? true : undefined), 10_000, 5);
      await station.close();
      await noFfmpegLeft(`ffmpeg to exit after close (round ${round})`);
    }
    assert.deepEqual(childProcesses('ffmpeg'), []);
  });
});
