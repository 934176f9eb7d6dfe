/**
 * The RTMP push against a real RTMP server (Debian's nginx with its RTMP
 * module), checked on its playback side as a platform's viewer would get
 * it: ffprobe for the tracks, ffmpeg for the audio (the songs' tones) and a
 * video frame (the channel's picture, centred on 1280x720). Then the server
 * is killed and started again: the push comes back by itself.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { frequencyTrack, makeImage, makeTone, steadyToneWindows } from '../helpers/media.js';
import { startNginxRtmp } from '../helpers/nginx-rtmp.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

const run = promisify(execFile);

async function probe(url: string): Promise<{ codec_type: string; codec_name: string; width?: number; height?: number; sample_rate?: string }[]> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-rw_timeout', '10000000', '-show_streams', '-of', 'json', url], { timeout: 30_000 });
  return (JSON.parse(stdout) as { streams: never[] }).streams;
}

describe('RTMP push', { timeout: 180_000 }, () => {
  test("a channel pushed with its picture as video: played back from nginx-rtmp; back after the server's crash; the key never logged", async () => {
    const dir = tempDir('rtmp');
    await makeImage(path.join(dir, 'red.png'), 400, 400, 'color=c=red');
    await makeTone({ file: path.join(dir, 'a.mp3'), freq: 440, seconds: 4, args: ['-c:a', 'libmp3lame'], title: 'A' });
    await makeTone({ file: path.join(dir, 'b.mp3'), freq: 1000, seconds: 4, args: ['-c:a', 'libmp3lame'], title: 'B' });
    const server = await startNginxRtmp();
    const key = `key-${randomBytes(6).toString('hex')}`;
    process.env.SCAST_TEST_RTMP_KEY = key;
    writePlaylist(dir, 'tv', {
      name: 'TV',
      mount: '/tv.mp3',
      art: 'red.png',
      loudness: false,
      rtmp: [
        { url: server.url, keyEnv: 'SCAST_TEST_RTMP_KEY' },
        { url: 'rtmp://127.0.0.1:1/none', keyEnv: 'SCAST_TEST_UNSET_KEY' },
      ],
      tracks: [
        { source: 'file', path: 'a.mp3' },
        { source: 'file', path: 'b.mp3' },
      ],
    });
    const station = await runStation({ PLAYLISTS_DIR: dir });
    const streaming = (n: number) =>
      station.logs.when(`RTMP streaming ${n}`, () => (station.logs.find(/^RTMP: streaming$/).length >= n ? true : undefined), 60_000);
    try {
      await streaming(1);
      const playback = `${server.url}/${key}`;
      const streams = await probe(playback);
      const video = streams.find((s) => s.codec_type === 'video');
      const audio = streams.find((s) => s.codec_type === 'audio');
      assert.deepEqual([video?.codec_name, video?.width, video?.height], ['h264', 1280, 720]);
      assert.deepEqual([audio?.codec_name, audio?.sample_rate], ['aac', '44100']);
      // The audio: both songs, decoded from the server's playback.
      const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', playback, '-t', '10', '-vn', '-ac', '1', '-ar', '44100', '-f', 's16le', '-'], {
        encoding: 'buffer',
        maxBuffer: 32 * 1024 * 1024,
        timeout: 40_000,
      });
      const track = frequencyTrack(new Int16Array(stdout.buffer, stdout.byteOffset, stdout.length / 2));
      assert.ok(steadyToneWindows(track, 440) > 20 && steadyToneWindows(track, 1000) > 20, 'both songs heard from the RTMP server');
      // The video: the channel's red picture in the middle, black bars at the sides.
      const { stdout: frame } = await run('ffmpeg', ['-v', 'error', '-i', playback, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], {
        encoding: 'buffer',
        maxBuffer: 8 * 1024 * 1024,
        timeout: 40_000,
      });
      const px = (x: number, y: number) => [...frame.subarray((y * 1280 + x) * 3, (y * 1280 + x) * 3 + 3)];
      const [r, g, b] = px(640, 360);
      assert.ok(r! > 180 && g! < 80 && b! < 80, `the picture in the middle (${px(640, 360)})`);
      assert.ok(
        px(40, 360).every((v) => v < 40),
        `bars at the side (${px(40, 360)})`,
      );
      // The server crashes and comes back: the push reconnects by itself (backoff from 1 s).
      await server.kill();
      await station.logs.when('the push ended', () => (station.logs.find(/^RTMP: push ended; reconnecting$/).length >= 1 ? true : undefined), 30_000);
      await server.start();
      await streaming(2);
      const again = await probe(playback);
      assert.ok(again.some((s) => s.codec_type === 'audio') && again.some((s) => s.codec_type === 'video'), 'playing again after the restart');
      const view = (await (await fetch(`${station.url}/api/channels/tv`)).json()) as { outputs: { kind: string; server: string; connected: boolean }[] };
      assert.deepEqual(
        view.outputs.filter((o) => o.kind === 'rtmp').map((o) => [o.server, o.connected]),
        [[server.url, true]],
      );
      // A target whose key is not in the environment is left out, and said so; the key is in no log line.
      assert.equal(station.logs.find(/SCAST_TEST_UNSET_KEY \(its stream key\) is not set/).length, 1);
      assert.ok(!station.logs.lines.some((l) => JSON.stringify(l).includes(key)), 'the stream key never logged');
    } finally {
      await station.close();
      await server.stop();
      delete process.env.SCAST_TEST_RTMP_KEY;
    }
  });
});
