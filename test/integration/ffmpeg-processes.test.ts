import assert from 'node:assert/strict';
import { chmodSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { PcmDecoder } from '../../src/decode/decoder.js';
import { PcmEncoder } from '../../src/encode/encoder.js';
import { resolveEncoder } from '../../src/encode/encoder-choice.js';
import { decoderChoice, proberChoice, resolveFfmpegPath } from '../../src/ffmpeg/binaries.js';
import { ProbeMemo } from '../../src/acquire/probe-memo.js';
import { childProcesses } from '../helpers/children.js';
import { listen } from '../helpers/listener.js';
import { decodeMp3, makeTone, silentRuns, toneChanges } from '../helpers/media.js';
import { until } from '../helpers/ports.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

const encoderChildren = () => [...childProcesses('ffmpeg'), ...childProcesses('lame')];
const noEncoderOrDecoderLeft = (what: string) => until(what, () => (encoderChildren().length === 0 ? true : undefined), 5000);

// fluent-ffmpeg spawns after run() returns; a stop in that window once left
// ffmpeg blocked on a pipe forever (and the process could not exit).
describe('ffmpeg and lame processes never outlive what started them', { timeout: 60_000 }, () => {
  test('decoders and encoders stopped before or after their process exists leave none behind', async () => {
    const dir = tempDir('procs');
    const file = await makeTone({ file: path.join(dir, 'a.m4a'), freq: 440, seconds: 5, args: ['-c:a', 'aac'] });
    const ffmpegPath = resolveFfmpegPath();
    const early = Array.from({ length: 6 }, () => new PcmDecoder(ffmpegPath, file));
    for (const d of early) d.destroy();
    const specs = [{ tool: 'ffmpeg' as const, path: ffmpegPath }, resolveEncoder('lame', undefined, ffmpegPath)];
    for (const spec of specs) new PcmEncoder(spec, 128, pino({ level: 'silent' })).destroy();
    // And once running: a decoder blocked on its full pipe, encoders waiting for input.
    const late = new PcmDecoder(ffmpegPath, file);
    const running = specs.map((spec) => new PcmEncoder(spec, 128, pino({ level: 'silent' })));
    await until('all running', () => (encoderChildren().length >= 3 ? true : undefined), 5000);
    late.destroy();
    for (const e of running) e.destroy();
    await Promise.all([...early.map((d) => d.done), late.done]);
    await noEncoderOrDecoderLeft('every ffmpeg to exit');
  });

  test('a station closed at once, mid-song, or right after a skip leaves no ffmpeg running', async () => {
    const dir = tempDir('procs-station');
    await makeTone({ file: path.join(dir, 'a.m4a'), freq: 440, seconds: 1.5, args: ['-c:a', 'aac'] });
    await makeTone({ file: path.join(dir, 'b.m4a'), freq: 550, seconds: 1.5, args: ['-c:a', 'aac'] });
    writePlaylist(dir, 'p', {
      name: 'P',
      mount: '/p.mp3',
      tracks: [
        { source: 'file', path: 'a.m4a' },
        { source: 'file', path: 'b.m4a' },
      ],
    });
    const env = { PLAYLISTS_DIR: dir, CACHE_DIR: tempDir('procs-cache') };

    const atOnce = await runStation(env);
    await atOnce.close();
    await noEncoderOrDecoderLeft('ffmpeg to exit after an immediate close');

    for (let round = 0; round < 3; round++) {
      const station = await runStation(env);
      const channel = station.station.channel('p')!;
      await until('a song on air', () => (channel.nowPlaying ? true : undefined), 10_000, 5);
      if (round === 1) channel.skip();
      if (round === 2) await until('the second song', () => (channel.songsPlayed >= 2 ? true : undefined), 10_000, 5);
      await station.close();
      await noEncoderOrDecoderLeft(`ffmpeg to exit after close (round ${round})`);
    }
    assert.deepEqual(encoderChildren(), []);
  });
});

describe('one decoder per channel at a time', { timeout: 60_000 }, () => {
  test('the next song starts decoding when the current decoder is done, and the seams stay gapless', async () => {
    const dir = tempDir('one-decoder');
    const freqs = [440, 550, 660];
    for (const [i, freq] of freqs.entries()) await makeTone({ file: path.join(dir, `${i}.m4a`), freq, seconds: 2, args: ['-c:a', 'aac'] });
    writePlaylist(dir, 'd', { name: 'D', mount: '/d.mp3', tracks: freqs.map((_f, i) => ({ source: 'file', path: `${i}.m4a` })) });
    const station = await runStation({ PLAYLISTS_DIR: dir, CACHE_DIR: tempDir('one-decoder-cache') });
    try {
      const listener = await listen(`${station.url}/d.mp3`);
      const channel = station.station.channel('d')!;
      let most = 0;
      await until(
        'five songs played',
        () => {
          most = Math.max(most, childProcesses('ffmpeg', /-vn -f s16le -map 0:a:0/).length);
          return channel.songsPlayed >= 5 ? true : undefined;
        },
        20_000,
        5,
      );
      listener.close();
      assert.equal(most, 1, `at most one decoder ran at a time (saw ${most})`);
      const pcm = await decodeMp3(listener.audio());
      const changes = toneChanges(pcm, freqs, 44100, 10);
      assert.ok(changes.length >= 3, `seams heard: ${changes.length}`);
      const gaps = silentRuns(pcm).filter((r) => r.startSec > 0.5);
      assert.deepEqual(gaps, [], 'no silence inside the stream');
    } finally {
      await station.close();
    }
  });
});

describe('probes are remembered per file version', () => {
  test('one ffmpeg run per file version, shared by concurrent callers; failures are tried again', async () => {
    const dir = tempDir('probe-memo');
    const file = await makeTone({ file: path.join(dir, 'a.m4a'), freq: 440, seconds: 1, args: ['-c:a', 'aac'], title: 'Memo' });
    const bad = path.join(dir, 'bad.m4a');
    writeFileSync(bad, 'not audio at all');
    // An ffmpeg that notes each run, to count processes.
    const runs = path.join(dir, 'runs.log');
    const wrapper = path.join(dir, 'ffmpeg');
    writeFileSync(wrapper, `#!/bin/sh\necho "$@" >> '${runs}'\nexec '${resolveFfmpegPath()}' "$@"\n`);
    chmodSync(wrapper, 0o755);
    // Probes only: fluent-ffmpeg also asks a binary for its formats and encoders, once per process.
    const count = () =>
      readFileSync(runs, 'utf8')
        .split('\n')
        .filter((l) => l.includes('-i ')).length;
    const memo = new ProbeMemo({ trusted: [wrapper], untrusted: [wrapper] });

    const all = await Promise.all(Array.from({ length: 5 }, () => memo.probe(file, true)));
    assert.equal(count(), 1);
    assert.ok(all.every((p) => p.tags.title === 'Memo' && p.exactSeconds !== null && Math.abs(p.exactSeconds - 1) < 0.01));
    await memo.probe(file, true);
    assert.equal(count(), 1, 'a second play probes nothing');

    const later = new Date(Date.now() + 5000);
    utimesSync(file, later, later);
    await memo.probe(file, true);
    assert.equal(count(), 2, 'a changed file is probed again');

    await assert.rejects(memo.probe(bad, true));
    await assert.rejects(memo.probe(bad, true));
    assert.equal(count(), 4, 'a failure is not remembered');

    // A build that cannot read the file hands it to the next one.
    const refuses = path.join(dir, 'old-ffmpeg');
    writeFileSync(refuses, `#!/bin/sh\necho "Invalid data found when processing input" >&2\nexit 1\n`, { mode: 0o755 });
    const fallback = await new ProbeMemo({ trusted: [refuses, wrapper], untrusted: [wrapper] }).probe(file, true);
    assert.equal(fallback.tags.title, 'Memo');
    assert.equal(count(), 5);
    await assert.rejects(
      new ProbeMemo({ trusted: [wrapper, refuses], untrusted: [refuses] }).probe(bad, true),
      /Invalid data found/,
      "the last build's reason is the one reported",
    );
  });
});

describe('which ffmpeg decodes', () => {
  test('FFMPEG_DECODER_PATH decodes everything; else the npm-shipped build only local files it decodes exactly, never downloads; a bad path is refused by name', () => {
    const main = resolveFfmpegPath();
    assert.equal(decoderChoice(main, '/nowhere/ffmpeg')('vorbis', false), main);
    const choose = decoderChoice(undefined, main);
    assert.match(choose('aac', true), /@ffmpeg-installer/, 'the optional dependency is installed here, so it decodes local AAC');
    assert.match(choose('mp3', true), /@ffmpeg-installer/);
    assert.equal(choose('aac', false), main, 'a download is decoded by the system ffmpeg, which gets security fixes');
    assert.equal(choose('mp3', false), main);
    assert.equal(choose('vorbis', true), main, 'its Vorbis decoder ignores end trimming');
    assert.equal(choose(undefined, true), main);
    assert.throws(() => decoderChoice('/nowhere/ffmpeg', main), /FFMPEG_DECODER_PATH=\/nowhere\/ffmpeg/);
    const probers = proberChoice(undefined, main);
    assert.equal(probers.trusted.length, 2);
    assert.match(probers.trusted[0]!, /@ffmpeg-installer/, 'the fast-starting build probes local files first');
    assert.equal(probers.trusted[1], main, 'then the main one, for what the old build cannot read');
    assert.deepEqual(probers.untrusted, [main], 'downloads are probed by the main one only');
    assert.deepEqual(proberChoice(main, '/other/ffmpeg'), { trusted: [main], untrusted: [main] });
  });
});
