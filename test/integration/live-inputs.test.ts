/**
 * What DJs' clients send, in every shape a station meets: MP3, AAC (ADTS),
 * Ogg Vorbis and Ogg Opus at other rates and channel counts; a second DJ
 * taking over where the channel allows it; a client that floods faster than
 * real time; one that reconnects in a loop. Sent by ffmpeg to LIVE_PORT
 * (the sources-only port); heard by a player-like listener.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hashPassword, writeDjFile } from '../../src/live/accounts.js';
import { listen, type Listener } from '../helpers/listener.js';
import { writeFileSync } from 'node:fs';
import { decodeMp3, frequencyTrack, makeTone, measureLoudness, silentRuns } from '../helpers/media.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

const SR = 44100;
const PW = { alice: 'alice-password-1', bob: 'bob-password-22' };

function send(
  url: string,
  o: { freq: number; seconds: number; codec: string; format: string; type: string; rate?: number; channels?: number; realTime?: boolean; extra?: string[] },
): ChildProcess {
  return spawn(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      ...(o.realTime === false ? [] : ['-re']),
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=${o.freq}:sample_rate=${o.rate ?? 44100}:duration=${o.seconds}`,
      '-af',
      'volume=0.5',
      '-ac',
      String(o.channels ?? 2),
      '-ar',
      String(o.rate ?? 44100),
      '-c:a',
      o.codec,
      ...(o.extra ?? []),
      '-content_type',
      o.type,
      '-f',
      o.format,
      url,
    ],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
}
const exited = (p: ChildProcess): Promise<number | null> =>
  p.exitCode !== null || p.signalCode !== null ? Promise.resolve(p.exitCode) : new Promise((r) => p.once('exit', (code) => r(code)));

/** Seconds of the recording (from `fromByte`) whose estimated pitch is within 3 % of `freq`. */
async function secondsOf(l: Listener, fromByte: number, freq: number): Promise<number> {
  const track = frequencyTrack(await decodeMp3(l.audio().subarray(fromByte)), SR, 20);
  return track.filter((f) => Math.abs(f - freq) < freq * 0.03).length * 0.02;
}

async function nextTitle(l: Listener, match: (t: string) => boolean, seen: number, timeoutMs = 15_000): Promise<{ title: string; audioOffset: number }> {
  return l.when(`a title after the first ${seen}`, () => l.titles.slice(seen).find((t) => match(t.title)), timeoutMs);
}

describe('live inputs: formats, takeover priority, floods and reconnect loops', { timeout: 300_000 }, () => {
  let station: Awaited<ReturnType<typeof runStation>>;
  let livePort: number;
  let listener: Listener;
  const url = (dj: keyof typeof PW): string => `icecast://${dj}:${PW[dj]}@127.0.0.1:${livePort}/radio.mp3`;

  before(async () => {
    const dir = tempDir('live-in');
    const media = tempDir('live-in-media');
    const track = await makeTone({ file: path.join(media, 'music.m4a'), freq: 440, seconds: 30, args: ['-c:a', 'aac', '-b:a', '128k'], title: 'Music' });
    writePlaylist(dir, 'radio', {
      name: 'Radio',
      mount: '/radio.mp3',
      loudness: false,
      live: { takeover: true, deadAirSeconds: 2 },
      tracks: [{ source: 'file', path: track }],
    });
    writePlaylist(dir, 'loud', { name: 'Loud', mount: '/loud.mp3', loudness: { target: -16 }, tracks: [{ source: 'file', path: track }] });
    const djs = path.join(tempDir('djs'), 'djs.json');
    await writeDjFile(djs, {
      djs: [
        { user: 'alice', channels: ['radio', 'loud'], hash: await hashPassword(PW.alice), timezone: 'UTC' },
        { user: 'bob', channels: ['radio'], hash: await hashPassword(PW.bob), timezone: 'UTC' },
      ],
    });
    station = await runStation({ PLAYLISTS_DIR: dir, MEDIA_DIRS: media, DJS_FILE: djs, LIVE_PORT: '0', RECORDINGS_DIR: tempDir('rec') });
    livePort = station.livePort!;
    listener = await listen(`${station.url}/radio.mp3`);
    await listener.when('music on air', () => (listener.titles.some((t) => t.title === 'Music') ? true : undefined), 20_000);
  });

  after(async () => {
    listener?.close();
    await station?.close();
  });

  test('LIVE_PORT takes sources only: anything else is told so', async () => {
    const res = await new Promise<string>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: livePort }, () => s.write('GET /radio.mp3 HTTP/1.0\r\n\r\n'));
      let got = '';
      s.on('data', (d) => (got += String(d)));
      s.on('close', () => resolve(got));
    });
    assert.match(res, /^HTTP\/1\.0 405 /);
  });

  for (const input of [
    { name: 'AAC (ADTS), 48 kHz stereo', freq: 900, codec: 'aac', format: 'adts', type: 'audio/aac', rate: 48000, channels: 2 },
    {
      name: 'Ogg Vorbis, 22.05 kHz mono',
      freq: 1100,
      codec: 'libvorbis',
      format: 'ogg',
      type: 'application/ogg',
      rate: 22050,
      channels: 1,
      extra: ['-page_duration', '20000'],
    },
    {
      name: 'Ogg Opus, 48 kHz stereo',
      freq: 1300,
      codec: 'libopus',
      format: 'ogg',
      type: 'audio/ogg',
      rate: 48000,
      channels: 2,
      extra: ['-page_duration', '20000'],
    },
    { name: 'MP3, 32 kHz mono', freq: 1500, codec: 'libmp3lame', format: 'mp3', type: 'audio/mpeg', rate: 32000, channels: 1 },
  ]) {
    test(`${input.name} goes on air and back`, async () => {
      const from = listener.bytes;
      const seen = listener.titles.length;
      const dj = send(url('alice'), { ...input, seconds: 3 });
      await nextTitle(listener, (t) => t === 'alice', seen);
      await exited(dj);
      const back = await nextTitle(listener, (t) => t === 'Music', seen + 1);
      await listener.when('playlist back', () => (listener.bytes > back.audioOffset + 16000 ? true : undefined), 10_000);
      const heard = await secondsOf(listener, from, input.freq);
      console.log(`# live input ${input.name}: ${heard.toFixed(2)} s of the DJ's ${input.freq} Hz heard (3 s sent)`);
      assert.ok(heard > 2.2 && heard < 3.3, `heard ${heard} s`);
    });
  }

  test('with live.takeover, a second DJ takes over from the first', async () => {
    const from = listener.bytes;
    const seen = listener.titles.length;
    const first = send(url('alice'), { freq: 1000, seconds: 20, codec: 'libmp3lame', format: 'mp3', type: 'audio/mpeg' });
    await nextTitle(listener, (t) => t === 'alice', seen);
    const second = send(url('bob'), { freq: 1200, seconds: 3, codec: 'libmp3lame', format: 'mp3', type: 'audio/mpeg' });
    await nextTitle(listener, (t) => t === 'bob', seen + 1);
    assert.notEqual(await exited(first), 0, 'the first DJ was disconnected');
    await exited(second);
    await nextTitle(listener, (t) => t === 'Music', seen + 2);
    const replaced = station.logs.find(/live: alice off/).at(-1)!;
    assert.equal(replaced.reason, 'replaced by DJ bob');
    assert.ok((await secondsOf(listener, from, 1200)) > 2.2, 'bob was heard');
  });

  test('a client flooding faster than real time is read at the pace of the air; reconnecting in a loop never leaves dead air', async () => {
    const seen = listener.titles.length;
    const flood = send(url('alice'), { freq: 1000, seconds: 120, codec: 'libmp3lame', format: 'mp3', type: 'audio/mpeg', realTime: false });
    const on = await nextTitle(listener, (t) => t === 'alice', seen);
    await listener.when('4 s of the flood on air', () => (listener.bytes > on.audioOffset + 4 * 16000 ? true : undefined), 10_000);
    const offs = station.logs.find(/live: alice off/).length;
    flood.kill('SIGKILL');
    // What the client wrote before it was killed is still in the kernel's buffers: read (and mostly dropped) at ~11x real time.
    const off = await station.logs.when('flood ended', () => station.logs.find(/live: alice off/)[offs], 30_000);
    const lagged = await nextTitle(listener, (t) => t === 'Music', seen + 1);
    // The burst is decoded as fast as it comes, but never more than 3 s of it waits: the rest is dropped, and the show ends soon after the client does.
    const tail = (lagged.audioOffset - on.audioOffset) / 16000 - Number(off.seconds);
    console.log(
      `# live flood: ${off.bytesIn} bytes came in ${off.seconds} s of a 120 s burst, ${off.droppedSeconds} s dropped, the show ended ${tail.toFixed(2)} s of audio after the client`,
    );
    assert.ok(Number(off.droppedSeconds) > 10, 'the excess was dropped');
    // Bounded, not instant: up to 3 s kept ahead, the channel's queue, and what the pipes held when the station saw the client leave (measured 4.8-7.2 s).
    assert.ok(tail < 10, `the show outlived its client by ${tail} s`);
    assert.ok(station.logs.find(/faster than real time/).length > 0);

    const from = listener.bytes;
    const rss0 = process.memoryUsage().rss;
    for (let i = 0; i < 15; i++) {
      const c = send(url('bob'), { freq: 1200, seconds: 0.4, codec: 'libmp3lame', format: 'mp3', type: 'audio/mpeg', realTime: false });
      await exited(c);
    }
    await listener.when('4 s after the loop', () => (listener.bytes > from + 4 * 16000 ? true : undefined), 20_000);
    await listener.when('music back', () => (listener.titles.at(-1)?.title === 'Music' ? true : undefined), 10_000);
    const pcm = await decodeMp3(listener.audio().subarray(from));
    const longest = Math.max(0, ...silentRuns(pcm, SR, 3).map((r) => r.ms));
    const grewMb = (process.memoryUsage().rss - rss0) / 1e6;
    console.log(`# live reconnect loop: 15 connections, longest silence ${longest.toFixed(0)} ms, memory ${grewMb.toFixed(1)} MB more`);
    assert.ok(longest < 2000, `silence ${longest} ms (live.deadAirSeconds 2)`);
    assert.ok(grewMb < 100);
    assert.equal(listener.closed, false);
  });

  test('a DJ far quieter or louder than the channel is brought to its loudness (-16 LUFS) within seconds, through the limiter', async () => {
    const loud = await listen(`${station.url}/loud.mp3`);
    try {
      await loud.when('music on /loud', () => (loud.titles.length > 0 ? true : undefined), 20_000);
      const figures: string[] = [];
      for (const [lufs, freq] of [
        [-30, 1000],
        [-8, 1000],
      ] as const) {
        const seen = loud.titles.length;
        // A sine in both channels near 1 kHz reads 20 log10(amplitude) LUFS; lavfi's sine has amplitude 1/8, and
        // ffmpeg's mono-to-stereo upmix puts it at -3 dB in each channel.
        const volume = (10 ** (lufs / 20) / 0.125) * Math.SQRT2;
        const dj = spawn(
          'ffmpeg',
          [
            '-hide_banner',
            '-loglevel',
            'error',
            '-re',
            '-f',
            'lavfi',
            '-i',
            `sine=frequency=${freq}:duration=12`,
            '-af',
            `volume=${volume.toFixed(5)}`,
            '-ac',
            '2',
            '-c:a',
            'libmp3lame',
            '-b:a',
            '192k',
            '-content_type',
            'audio/mpeg',
            '-f',
            'mp3',
            `icecast://alice:${PW.alice}@127.0.0.1:${livePort}/loud.mp3`,
          ],
          { stdio: 'ignore' },
        );
        const on = await nextTitle(loud, (t) => t === 'alice', seen);
        await exited(dj);
        const back = await nextTitle(loud, (t) => t === 'Music', seen + 1);
        const file = path.join(tempDir('agc'), 'show.mp3');
        writeFileSync(file, loud.audio().subarray(on.audioOffset, back.audioOffset));
        const showSeconds = (back.audioOffset - on.audioOffset) / 16000;
        // From 4 s into the show (the gain has settled) to its last second.
        const settled = await measureLoudness(file, 4, showSeconds - 5);
        figures.push(`sent ${lufs} LUFS -> heard ${settled.lufs} LUFS (${showSeconds.toFixed(1)} s show, peak ${settled.peak} dBFS)`);
        assert.ok(Math.abs(settled.lufs - -16) <= 1.5, figures.at(-1));
        assert.ok(settled.peak <= -1, 'under the ceiling');
      }
      console.log(`# live loudness: ${figures.join('; ')}`);
    } finally {
      loud.close();
    }
  });
});
