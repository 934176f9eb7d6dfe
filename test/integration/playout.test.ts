import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { PlaylistError } from '../../src/kernel/errors.js';
import { listen } from '../helpers/listener.js';
import { decodeMp3, makeCover, makeTone, silentRuns, toneChanges } from '../helpers/media.js';
import { until } from '../helpers/ports.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

describe('channel playout on the built-in output', { timeout: 240_000 }, () => {
  test('mixed formats become one gapless stream: no seam silence over 26 ms, titles as a player parses them', async () => {
    const dir = tempDir('mixed');
    const cover = await makeCover(path.join(dir, 'cover.png'));
    const songs = [
      { file: 'a.m4a', freq: 440, seconds: 3, args: ['-c:a', 'aac', '-b:a', '128k'], title: 'AAC stereo' },
      { file: 'b.mp3', freq: 550, seconds: 3, args: ['-c:a', 'libmp3lame', '-b:a', '192k'], title: 'MP3 with cover', cover },
      { file: 'c.flac', freq: 660, seconds: 3, args: ['-c:a', 'flac'], title: '无损 FLAC' },
      { file: 'd.m4a', freq: 770, seconds: 3, sampleRate: 48000, channels: 1, args: ['-c:a', 'aac'], title: '48k mono' },
      { file: 'e.wav', freq: 880, seconds: 0.5, args: ['-c:a', 'pcm_s16le'], title: 'half-second jingle' },
      { file: 'f.ogg', freq: 990, seconds: 2, args: ['-c:a', 'libvorbis'], title: 'Ogg Vorbis' },
      { file: 'g.wav', freq: 1100, seconds: 2, sampleRate: 8000, channels: 1, args: ['-c:a', 'pcm_s16le'], title: '8 kHz' },
    ];
    for (const s of songs) await makeTone({ ...s, file: path.join(dir, s.file), title: s.title, artist: 'Tone' });
    const coverBytes = readFileSync(path.join(dir, 'b.mp3')).length;
    assert.ok(coverBytes > 100_000, `the MP3 carries a large ID3 picture (${coverBytes} bytes)`);
    writePlaylist(dir, 'mixed', { name: 'Mixed', mount: '/mixed.mp3', genre: 'Test', tracks: songs.map((s) => ({ source: 'file', path: s.file })) });

    const t0 = Date.now();
    const station = await runStation({ PLAYLISTS_DIR: dir });
    try {
      const listener = await listen(`${station.url}/mixed.mp3`);
      const firstByte = await listener.when('first audio byte', () => (listener.bytes > 0 ? Date.now() : undefined), 5000);
      const channel = station.station.channel('mixed')!;
      const firstSong = await until('first song on air', () => (channel.nowPlaying ? Date.parse(channel.nowPlaying.startedAt) : undefined), 10_000, 5);
      console.log(`# mount live ${firstByte - t0} ms after start; first song on air after ${firstSong - t0} ms`);
      assert.equal(listener.status, 200);
      assert.equal(listener.headers['icy-metaint'], '16000');
      assert.equal(listener.headers['icy-name'], 'Mixed');
      assert.equal(listener.headers['icy-br'], '128');
      assert.equal(listener.headers['content-type'], 'audio/mpeg');
      // One full round and the start of the next. ICY carries one title per
      // second, so a title shorter than that may be overtaken by the next.
      for (const s of songs.filter((x) => x.seconds >= 1)) await listener.waitForTitle((t) => t === `Tone - ${s.title}`, 30_000);
      const secondRound = listener.titles.length;
      await listener.waitForTitle((t) => t === `Tone - ${songs[1]!.title}` && listener.titles.length > secondRound, 30_000);
      listener.close();

      const pcm = await decodeMp3(listener.audio());
      const runs = silentRuns(pcm);
      const longest = Math.max(0, ...runs.map((r) => r.ms));
      console.log(`# seam silence: ${runs.length} runs >= 3 ms, longest ${longest.toFixed(1)} ms over ${(pcm.length / 44100).toFixed(1)} s`);
      if (process.env.SCAST_DEBUG)
        console.log(
          JSON.stringify({
            runs,
            changes: toneChanges(
              pcm,
              songs.map((s) => s.freq),
              44100,
              10,
            ),
          }),
        );
      assert.ok(longest <= 26, `silence over 26 ms: ${JSON.stringify(runs)}`);
      const changes = toneChanges(
        pcm,
        songs.map((s) => s.freq),
        44100,
        10,
      );
      assert.ok(changes.length >= songs.length, `every seam is heard: ${JSON.stringify(changes)}`);
      assert.equal(channel.songsFailed, 0);
      assert.equal(station.logs.lines.filter((l) => (l.level as number) >= 50).length, 0, 'no errors logged');
    } finally {
      await station.close();
    }
  });

  test('a slow download is covered with silence, not a disconnect, and plays the moment it is ready', async () => {
    const dir = tempDir('slow');
    await makeTone({ file: path.join(dir, 'quick.m4a'), freq: 440, seconds: 1, args: ['-c:a', 'aac'] });
    const slowFile = await makeTone({ file: path.join(dir, 'slow-src.m4a'), freq: 660, seconds: 2, args: ['-c:a', 'aac'] });
    const body = readFileSync(slowFile);
    // Serves the song in 20 pieces over 4 s.
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'audio/mp4', 'content-length': body.length });
      let i = 0;
      const piece = Math.ceil(body.length / 20);
      const timer = setInterval(() => {
        res.write(body.subarray(i * piece, (i + 1) * piece));
        if (++i >= 20) {
          clearInterval(timer);
          res.end();
        }
      }, 200);
      res.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slow.m4a`;
    writePlaylist(dir, 'slow', {
      name: 'Slow',
      mount: '/slow.mp3',
      loop: false,
      tracks: [
        { source: 'file', path: 'quick.m4a', title: 'Quick' },
        { source: 'url', url, title: 'Slow' },
      ],
    });
    const station = await runStation({ PLAYLISTS_DIR: dir });
    try {
      const listener = await listen(`${station.url}/slow.mp3`);
      const slow = await listener.waitForTitle((t) => t === 'Slow', 20_000);
      const quick = listener.titles.find((t) => t.title === 'Quick')!;
      await listener.when('2 s of the slow song', () => (listener.bytes > slow.audioOffset + 40_000 ? true : undefined), 10_000);
      assert.equal(listener.closed, false, 'the listener was never disconnected');
      listener.close();
      assert.ok(slow.at - quick.at > 2500, `the slow song came ${slow.at - quick.at} ms after the quick one`);
      const pcm = await decodeMp3(listener.audio());
      const runs = silentRuns(pcm);
      const pad = runs.find((r) => r.ms > 1500);
      assert.ok(pad, `silence padding while downloading: ${JSON.stringify(runs)}`);
      const change = toneChanges(pcm, [440, 660]).find((c) => c.to === 660);
      assert.ok(change && change.at >= pad.startSec + pad.ms / 1000 - 0.05, 'the slow song plays after the padding');
      assert.ok(station.logs.find(/download progress/).length >= 1, 'download progress is reported');
    } finally {
      await station.close();
      server.close();
    }
  });
});

describe('playlist hot reload', { timeout: 120_000 }, () => {
  let dir: string;
  let station: Awaited<ReturnType<typeof runStation>>;
  const song = (file: string, title: string) => ({ source: 'file', path: file, title });

  before(async () => {
    dir = tempDir('reload');
    await makeTone({ file: path.join(dir, 'one.m4a'), freq: 440, seconds: 5, args: ['-c:a', 'aac'] });
    await makeTone({ file: path.join(dir, 'two.m4a'), freq: 660, seconds: 5, args: ['-c:a', 'aac'] });
    await makeTone({ file: path.join(dir, 'three.m4a'), freq: 880, seconds: 5, args: ['-c:a', 'aac'] });
    writePlaylist(dir, 'live', { name: 'Live', mount: '/live.mp3', tracks: [song('one.m4a', 'One'), song('two.m4a', 'Two')] });
    station = await runStation({ PLAYLISTS_DIR: dir });
  });
  after(async () => station?.close());

  test('a valid edit applies mid-song without cutting it; an invalid one is reported once and the last valid list keeps playing', async () => {
    const channel = station.station.channel('live')!;
    const listener = await listen(`${station.url}/live.mp3`);
    const one = await listener.waitForTitle((t) => t === 'One');
    // Mid-song: drop "Two", add "Three".
    writePlaylist(dir, 'live', { name: 'Live', mount: '/live.mp3', tracks: [song('one.m4a', 'One'), song('three.m4a', 'Three')] });
    await station.logs.when('edit applied', () => (station.logs.find(/playlist updated/).length > 0 ? true : undefined), 5000);
    assert.equal(channel.nowPlaying?.title, 'One', 'the song on air was not cut');
    const three = await listener.waitForTitle((t) => t !== 'One' && t !== '');
    assert.equal(three.title, 'Three');
    assert.ok((three.audioOffset - one.audioOffset) / 16000 > 4.4, 'song one played to its end');

    // Broken edit: bad JSON.
    const file = path.join(dir, 'live.json');
    const invalid: PlaylistError[] = [];
    station.station.on('invalid', (e: PlaylistError) => invalid.push(e));
    writeFileSync(file, '{ "name": "Live", "mount": "/live.mp3", "tracks": [ oops ] }');
    await until('invalid edit reported', () => (invalid.length > 0 ? true : undefined), 5000);
    assert.equal(invalid[0]!.file, file);
    assert.match(invalid[0]!.message, /not valid JSON.*line 1/);
    const logged = station.logs.lines.filter((l) => /invalid playlist/.test(String(l.msg)));
    assert.equal(logged.length, 1);
    assert.equal(logged[0]!.level, 50);
    assert.match(String(logged[0]!.msg), /last valid version keeps playing/);
    // Wrong field type, with its JSON path.
    writeFileSync(file, JSON.stringify({ name: 'Live', mount: '/live.mp3', tracks: [song('one.m4a', 'One'), { source: 'file', path: 7 }] }));
    await until('second problem reported', () => (invalid.length > 1 ? true : undefined), 5000);
    assert.match(invalid[1]!.message, /tracks\[1\]\.path/);
    await station.station.rescan(); // the same broken bytes again: not reported twice
    assert.equal(invalid.length, 2);
    assert.strictEqual(station.station.channel('live'), channel, 'the channel kept running');
    const next = await listener.waitForTitle((t) => t === 'One' && listener.titles.filter((x) => x.title === 'One').length >= 2, 20_000);
    assert.ok(next, 'the last valid list keeps playing');
    listener.close();
  });

  test('a duplicate mount is refused with both names; a new file starts a channel; a deleted one ends it', async () => {
    const invalid: PlaylistError[] = [];
    station.station.on('invalid', (e: PlaylistError) => invalid.push(e));
    writePlaylist(dir, 'clash', { name: 'Clash', mount: '/live.mp3', tracks: [song('two.m4a', 'Two')] });
    await until('duplicate reported', () => (invalid.some((e) => e.file.endsWith('clash.json')) ? true : undefined), 5000);
    assert.match(invalid.find((e) => e.file.endsWith('clash.json'))!.message, /mount: mount \/live\.mp3 is already used by channel "live"/);
    assert.equal(station.station.channel('clash'), undefined);

    writePlaylist(dir, 'clash', { name: 'Clash', mount: '/clash.mp3', tracks: [song('two.m4a', 'Two')] });
    const added = await until('new channel', () => station.station.channel('clash'), 5000);
    const listener = await listen(`${station.url}/clash.mp3`);
    await listener.waitForTitle((t) => t === 'Two', 10_000);
    rmSync(path.join(dir, 'clash.json'));
    await until('channel ended', () => (station.station.channel('clash') === undefined && added.status === 'closed' ? true : undefined), 5000);
    await listener.when('listener disconnected', () => (listener.closed ? true : undefined), 5000);
    const res = await fetch(`${station.url}/clash.mp3`);
    assert.equal(res.status, 404);
  });
});
