/**
 * Stored frames on air (encode/splicing-encoding.ts), measured where the
 * listener is: three tones with a 2 s crossfade play three rounds. Round
 * one records each song's frames (its gains may still change as analyses
 * land), later rounds send them. The recording must decode without a word
 * from the decoder, with no more broadband energy (what a join that read
 * the wrong reservoir bytes makes of a tone) than round one's, which was
 * encoded throughout, and no silence.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { listen } from '../helpers/listener.js';
import { silentRuns } from '../helpers/media.js';
import { until } from '../helpers/ports.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

const run = promisify(execFile);
const SR = 44100;

/** The recording decoded (mono), and what the decoder said. */
function decode(mp3: Buffer): Promise<{ pcm: Int16Array; errors: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'mp3', '-i', 'pipe:0', '-ac', '1', '-f', 's16le', 'pipe:1']);
    const out: Buffer[] = [];
    let errors = '';
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => (errors += String(d)));
    p.on('error', reject);
    p.on('close', () => {
      const b = Buffer.concat(out);
      resolve({ pcm: new Int16Array(b.buffer, b.byteOffset, Math.floor(b.length / 2)), errors });
    });
    p.stdin.on('error', () => undefined);
    p.stdin.end(mp3);
  });
}

/**
 * Per 10 ms window, the level (dBFS) of the second difference: a tone of
 * 440-660 Hz is 41-48 dB down in it, a click or garbled frame is not.
 */
function broadband(pcm: Int16Array, from: number, to: number): number {
  const w = SR / 100;
  let worst = -Infinity;
  for (let at = Math.max(2, from); at + w <= to; at += w) {
    let e = 0;
    for (let i = at; i < at + w; i++) e += (pcm[i]! - 2 * pcm[i - 1]! + pcm[i - 2]!) ** 2;
    worst = Math.max(worst, 10 * Math.log10(e / w / 32768 ** 2 + 1e-12));
  }
  return worst;
}

describe('stored frames on a second play', { timeout: 240_000 }, () => {
  test('later rounds send most frames as stored; they decode clean, with no more broadband energy than round one', async (t) => {
    const dir = tempDir('reuse');
    const songs = [
      { name: 'a', freq: 440 },
      { name: 'b', freq: 554 },
      { name: 'c', freq: 659 },
    ];
    for (const s of songs)
      await run('ffmpeg', [
        ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i'],
        `sine=frequency=${s.freq}:sample_rate=44100:duration=9,volume=-8dB,aformat=channel_layouts=stereo`,
        ...['-c:a', 'aac', '-b:a', '192k', path.join(dir, `${s.name}.m4a`)],
      ]);
    writePlaylist(dir, 'r', {
      name: 'Reuse',
      mount: '/r.mp3',
      crossfade: 2,
      tracks: songs.map((s) => ({ source: 'file', path: `${s.name}.m4a`, title: s.name })),
    });
    const station = await runStation({ PLAYLISTS_DIR: dir, CACHE_DIR: tempDir('reuse-cache') });
    try {
      const listener = await listen(`${station.url}/r.mp3`);
      const channel = station.station.channel('r')!;
      const roundStart = (n: number): Promise<{ byte: number; frames: { reused: number; encoded: number } }> =>
        until(
          `round ${n}`,
          () => {
            const a = listener.titles.filter((x) => x.title === 'a');
            return a.length >= n ? { byte: a[n - 1]!.audioOffset, frames: channel.mp3Frames } : undefined;
          },
          120_000,
        );
      const r2 = await roundStart(2);
      const r3 = await roundStart(3);
      const r4 = await roundStart(4);
      listener.close();
      const reused = r4.frames.reused - r3.frames.reused;
      const total = reused + r4.frames.encoded - r3.frames.encoded;
      t.diagnostic(
        `round three: ${reused} of ${total} frames sent as stored; rounds one and two: ${r3.frames.reused} of ${r3.frames.reused + r3.frames.encoded}`,
      );
      assert.ok(reused > 0.6 * total, `round three sent ${reused} of ${total} frames as stored`);

      const { pcm, errors } = await decode(listener.audio());
      assert.equal(errors.trim(), '', 'the decoder reports nothing');
      const at = (byte: number): number => Math.round((byte / 16000) * SR);
      // Round one from after the first song's start-up; rounds three and on to the end of the recording.
      const first = broadband(pcm, at(4 * 16000), at(r2.byte));
      const later = broadband(pcm, at(r3.byte), pcm.length);
      t.diagnostic(`worst 10 ms of broadband energy: round one ${first.toFixed(1)} dBFS, round three ${later.toFixed(1)} dBFS`);
      assert.ok(later <= first + 6, `round three ${later.toFixed(1)} dBFS against round one's ${first.toFixed(1)}`);
      assert.deepEqual(silentRuns(pcm.subarray(at(r3.byte)), SR, 50), [], 'no silence');
    } finally {
      await station.close();
    }
  });
});
