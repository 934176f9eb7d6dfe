/**
 * Every song at one loudness, measured where the listener is: songs mastered
 * from -30 to -6 LUFS, in AAC, MP3, FLAC, Ogg and WAV, one with a lead-in
 * and a near-silent tail, one quiet with full-scale clicks, are recorded from
 * the built-in output; each song's stretch of the recording is measured with
 * ffmpeg's ebur128, and so is the whole recording's true peak.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { listen } from '../helpers/listener.js';
import { decodeMp3, measureLoudness as measure, silentRuns, toneChanges } from '../helpers/media.js';
import { until } from '../helpers/ports.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

const run = promisify(execFile);

interface Song {
  name: string;
  freq: number;
  lufs: number;
  codec: string[];
  ext: string;
  /** Seconds of silence before, and of -60 dB near-silence after. */
  lead?: number;
  tail?: number;
  /** Full-scale clicks on top of the tone. */
  clicks?: boolean;
  /** Length in seconds; default 4. */
  seconds?: number;
}

/** A tone mastered at `lufs`: made, measured, then made again at the level that gives it. */
async function master(dir: string, s: Song): Promise<{ file: string; lufs: number; peak: number }> {
  const file = path.join(dir, `${s.name}.${s.ext}`);
  const make = async (gainDb: number) => {
    const parts = [`sine=frequency=${s.freq}:sample_rate=44100:duration=${s.seconds ?? 4},volume=${gainDb}dB,aformat=channel_layouts=stereo`];
    let graph = `${parts[0]}[tone]`;
    if (s.clicks)
      graph += `;aevalsrc='if(lt(mod(t,2),0.0001),0.99,0)':s=44100:d=${s.seconds ?? 4},aformat=channel_layouts=stereo[clicks];[tone][clicks]amix=inputs=2:normalize=0[song]`;
    else graph += ';[tone]anull[song]';
    if (s.lead || s.tail) {
      graph += `;anullsrc=r=44100:cl=stereo:d=${s.lead ?? 0.01}[lead];sine=frequency=${s.freq}:sample_rate=44100:duration=${s.tail ?? 0.01},volume=-60dB,aformat=channel_layouts=stereo[tail];[lead][song][tail]concat=n=3:v=0:a=1[out]`;
    } else graph += ';[song]anull[out]';
    await run('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-filter_complex',
      graph,
      '-map',
      '[out]',
      '-metadata',
      `title=${s.name}`,
      ...s.codec,
      file,
    ]);
  };
  await make(-20);
  const first = await measure(file);
  await make(-20 + (s.lufs - first.lufs));
  const got = await measure(file);
  return { file, ...got };
}

describe('every song at one loudness, measured at a listener', { timeout: 240_000 }, () => {
  test('songs from -30 to -6 LUFS all play at -16 LUFS +/- 1 LU, true peak under -1 dBTP, trimmed seams without silence; analyses survive a restart', async () => {
    const dir = tempDir('loudness');
    const songs: Song[] = [
      { name: 'quiet-aac', freq: 330, lufs: -30, codec: ['-c:a', 'aac', '-b:a', '192k'], ext: 'm4a' },
      { name: 'mp3', freq: 440, lufs: -22, codec: ['-c:a', 'libmp3lame', '-b:a', '192k'], ext: 'mp3' },
      { name: 'hot-flac', freq: 550, lufs: -6, codec: ['-c:a', 'flac'], ext: 'flac' },
      { name: 'ogg', freq: 660, lufs: -10, codec: ['-c:a', 'libvorbis', '-q:a', '6'], ext: 'ogg' },
      { name: 'padded-wav', freq: 770, lufs: -16, codec: ['-c:a', 'pcm_s16le'], ext: 'wav', lead: 1.5, tail: 2.5 },
      { name: 'spiky-aac', freq: 990, lufs: -30, codec: ['-c:a', 'aac', '-b:a', '192k'], ext: 'm4a', clicks: true },
    ];
    const before = [];
    for (const s of songs) before.push({ ...s, ...(await master(dir, s)) });
    writePlaylist(dir, 'l', { name: 'Level', mount: '/l.mp3', tracks: songs.map((s) => ({ source: 'file', path: `${s.name}.${s.ext}`, title: s.name })) });
    const cache = tempDir('loudness-cache');
    const station = await runStation({ PLAYLISTS_DIR: dir, CACHE_DIR: cache });
    const rec = path.join(dir, 'recording.mp3');
    let measured: { name: string; lufs: number }[] = [];
    try {
      const listener = await listen(`${station.url}/l.mp3`);
      // The second round is the one measured whole; the first song's very first play too: a new channel waits for its
      // analysis rather than play it at a guessed gain. Two whole rounds, and 1.5 s of the third's first song: a song's
      // start is found by its tone, which takes audio to read.
      await until(
        'two rounds',
        () => {
          const third = listener.titles.filter((t) => t.title === songs[0]!.name)[2];
          return third && listener.bytes > third.audioOffset + 24_000 ? true : undefined;
        },
        120_000,
      );
      listener.close();
      writeFileSync(rec, listener.audio());
      const pcm = await decodeMp3(listener.audio());
      const changes = toneChanges(
        pcm,
        songs.map((s) => s.freq),
      );
      // One round: from the second time the first song starts, the six seams that follow.
      const starts = changes.filter((c) => c.to === songs[0]!.freq);
      const from = starts[starts.length - 2]!.at;
      const round = changes.filter((c) => c.at >= from).slice(0, songs.length + 1);
      assert.equal(round.length, songs.length + 1, `a whole round heard: ${JSON.stringify(changes)}`);
      for (let i = 0; i < songs.length; i++) {
        const { at, to } = round[i]!;
        const end = round[i + 1]!.at;
        const name = songs.find((s) => s.freq === to)!.name;
        // Inside the song: a quarter second off each edge, so the neighbours do not count.
        const m = await measure(rec, at + 0.25, end - at - 0.5);
        measured.push({ name, lufs: m.lufs });
      }
      // The channel's first song, on its first play (no analysis known when the channel started).
      const firstPlay = changes.findIndex((c) => c.to === songs[0]!.freq);
      const firstAt = changes[firstPlay]!.at;
      const first = await measure(rec, firstAt + 0.25, changes[firstPlay + 1]!.at - firstAt - 0.5);
      const whole = await measure(rec);
      const table = before.map(
        (b) => `${b.name}: ${b.lufs.toFixed(1)} LUFS (peak ${b.peak.toFixed(1)}) -> ${measured.find((m) => m.name === b.name)?.lufs.toFixed(1)} LUFS`,
      );
      console.log(
        `# loudness before -> at the listener: ${table.join('; ')}; the first song's first play ${first.lufs.toFixed(1)} LUFS; recording true peak ${whole.peak.toFixed(2)} dBTP`,
      );
      assert.ok(Math.abs(first.lufs + 16) <= 1, `the channel's first song, first played before any analysis was known, at ${first.lufs} LUFS`);
      for (const m of measured) assert.ok(Math.abs(m.lufs + 16) <= 1, `${m.name} at ${m.lufs} LUFS`);
      assert.ok(whole.peak <= -1, `true peak ${whole.peak} dBTP`);
      // The padded song's 1.5 s lead-in and 2.5 s tail were trimmed: no hole at any seam of the round.
      const roundPcm = pcm.subarray(Math.floor(from * 44100), Math.floor(round[songs.length]!.at * 44100));
      const holes = silentRuns(roundPcm)
        .filter((r) => r.ms > 50)
        .map((r) => ({ ...r, at: r.startSec + from, before: round.filter((c) => c.at <= r.startSec + from + 0.1).at(-1)?.to }));
      assert.deepEqual(holes, [], 'no silence over 50 ms in a round');
      const analysed = station.logs.find(/loudness analysed/).length;
      assert.equal(analysed, songs.length, 'each song analysed once');
    } finally {
      await station.close();
    }
    // A restart with the same cache: nothing is analysed again.
    const again = await runStation({ PLAYLISTS_DIR: dir, CACHE_DIR: cache });
    try {
      await again.logs.when('two songs played', () => (again.logs.find(/now playing/).length >= 2 ? true : undefined), 30_000);
      assert.equal(again.logs.find(/loudness analysed/).length, 0, 'analyses were kept beside the cache');
      assert.match(String(again.logs.find(/loudness analyses loaded/)[0]?.songs), /^6$/);
    } finally {
      await again.close();
    }
    measured = [];
  });

  test("a new channel's first song, not analysed yet, plays at the channel's loudness from its first second", async () => {
    const dir = tempDir('loudness-first');
    // Five minutes: its analysis takes longer than preparing it, so without waiting it would start at a guessed gain.
    const song: Song = { name: 'long-quiet', freq: 500, lufs: -30, codec: ['-c:a', 'aac', '-b:a', '128k'], ext: 'm4a', seconds: 300 };
    const made = await master(dir, song);
    writePlaylist(dir, 'first', { name: 'First', mount: '/first.mp3', tracks: [{ source: 'file', path: 'long-quiet.m4a', title: 'long-quiet' }] });
    const station = await runStation({ PLAYLISTS_DIR: dir, CACHE_DIR: tempDir('loudness-first-cache') });
    try {
      const listener = await listen(`${station.url}/first.mp3`);
      const title = await listener.when('its title', () => listener.titles.find((t) => t.title === 'long-quiet'), 30_000);
      // Ten seconds of it.
      await listener.when('ten seconds of it', () => (listener.bytes > title.audioOffset + 10 * 16_000 ? true : undefined), 30_000);
      listener.close();
      const rec = path.join(dir, 'first.mp3');
      writeFileSync(rec, listener.audio());
      // Where its title went up in the stream (128 kbit/s: 16 000 bytes a second).
      const start = title.audioOffset / 16_000;
      const m = await measure(rec, start + 0.5, 8);
      const waited = station.logs.find(/waiting for its loudness analysis/).length;
      const waitedMs = station.logs.find(/loudness wait over/)[0]?.waitedMs;
      console.log(
        `# first song of a new channel (${made.lufs.toFixed(1)} LUFS, 5 min): its first 8.5 s at the listener ${m.lufs.toFixed(1)} LUFS; waited for its analysis: ${waited} time(s), ${String(waitedMs)} ms`,
      );
      assert.ok(Math.abs(m.lufs + 16) <= 1, `its first seconds at ${m.lufs} LUFS, not at a guessed gain`);
    } finally {
      await station.close();
    }
  });
});
