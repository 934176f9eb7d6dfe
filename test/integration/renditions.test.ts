/**
 * Renditions: one decode and one mix, several formats, each its own mount
 * on Icecast and on the built-in output. What a listener gets is checked as
 * a player reads it: ffprobe for the format, ffmpeg's decode for the tones,
 * the titles from ICY blocks (MP3, AAC) and from each chained Ogg stream's
 * OpusTags (Opus).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { OGG_BOS, OGG_EOS, parseOggPages, readOpusTags } from '../../src/audio/ogg.js';
import { parseAdtsHeader } from '../../src/audio/adts.js';
import type { PacedFrame } from '../../src/audio/mp3.js';
import type { TrackInfo } from '../../src/acquire/track-info.js';
import { AacAdtsEncoding } from '../../src/encode/aac-encoding.js';
import { EncodingSession } from '../../src/encode/encoding.js';
import { OpusOggEncoding } from '../../src/encode/opus-encoding.js';
import { pino } from 'pino';
import { startIcecast } from '../helpers/icecast.js';
import { listen, type Listener } from '../helpers/listener.js';
import { decodeAudio, frequencyTrack, makeTone, silentRuns, steadyToneWindows } from '../helpers/media.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

const run = promisify(execFile);

/** A recording decoded as a player would: ffmpeg reading the bytes as they came, to 44.1 kHz mono s16le. */
async function decode(file: string): Promise<Int16Array> {
  const { stdout } = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', file, '-ac', '1', '-ar', '44100', '-f', 's16le', '-'], {
    encoding: 'buffer',
    maxBuffer: 64 * 1024 * 1024,
  });
  return new Int16Array(stdout.buffer, stdout.byteOffset, stdout.length / 2);
}

async function probe(file: string): Promise<{ codec_name: string; sample_rate: string; channels: number }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', file]);
  return (JSON.parse(stdout) as { streams: { codec_name: string; sample_rate: string; channels: number }[] }).streams[0]!;
}

/** Each chained Ogg stream's title (`ARTIST - TITLE`), in order, and the byte where its headers begin. */
function oggTitles(bytes: Buffer): { title: string; offset: number }[] {
  const out: { title: string; offset: number }[] = [];
  let offset = 0;
  for (const page of parseOggPages(bytes)) {
    const tags = page.packets[0] && readOpusTags(page.packets[0]);
    if (tags) {
      const get = (k: string) => tags.find((t) => t.startsWith(`${k}=`))?.slice(k.length + 1);
      const title = get('TITLE');
      if (title) out.push({ title: get('ARTIST') ? `${get('ARTIST')} - ${title}` : title, offset });
    }
    offset += page.length;
  }
  return out;
}

function record(l: Listener, dir: string, name: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, l.audio());
  return file;
}

describe('renditions: MP3, AAC and Opus from one mix', { timeout: 180_000 }, () => {
  test('each mount plays its format with the songs in order and their titles, on Icecast and built in', async () => {
    const dir = tempDir('renditions');
    await makeTone({ file: path.join(dir, 'a.mp3'), freq: 440, seconds: 4, args: ['-c:a', 'libmp3lame'], title: '第一', artist: '歌手' });
    await makeTone({ file: path.join(dir, 'b.mp3'), freq: 1000, seconds: 4, args: ['-c:a', 'libmp3lame'], title: 'Second' });
    writePlaylist(dir, 'multi', {
      name: 'Multi',
      mount: '/multi.mp3',
      loudness: false,
      renditions: [
        { codec: 'aac', bitrate: 64, mount: '/multi.aac' },
        { codec: 'opus', bitrate: 48, mount: '/multi.opus' },
        { codec: 'mp3', bitrate: 64, mount: '/multi-64.mp3' },
      ],
      tracks: [
        { source: 'file', path: 'a.mp3' },
        { source: 'file', path: 'b.mp3' },
      ],
    });
    const ice = await startIcecast();
    const station = await runStation({ PLAYLISTS_DIR: dir, ICECAST_URL: ice.sourceUrl });
    try {
      const mounts = ['/multi.mp3', '/multi.aac', '/multi.opus', '/multi-64.mp3'];
      const at = (base: string) => Promise.all(mounts.map((m) => listen(`${base}${m}`, { icy: !m.endsWith('.opus') })));
      // Each source's "on air" line: its mount exists on Icecast from then on.
      await station.logs.when('four sources on air', () => (new Set(station.logs.find(/^on air$/).map((l) => l.mount)).size >= 4 ? true : undefined), 20_000);
      const [builtin, icecast] = await Promise.all([at(station.url), at(ice.url)]);
      // Two whole songs after the first seam each listener hears.
      await Promise.all(
        [...builtin, ...icecast].map((l, i) =>
          mounts[i % 4]!.endsWith('.opus')
            ? l.when('two Ogg titles', () => (oggTitles(l.audio()).length >= 3 ? true : undefined), 40_000)
            : l.when('three ICY titles', () => (l.titles.length >= 3 ? true : undefined), 40_000),
        ),
      );
      // The API lists every way in, and counts the built-in listeners of every format.
      const view = (await (await fetch(`${station.url}/api/channels/multi`)).json()) as {
        listeners: number;
        renditions: { codec: string; bitrate: number; mount: string; listen: { builtin: string; icecast: string[] }; listeners: number }[];
      };
      assert.deepEqual(
        view.renditions.map((r) => [r.codec, r.bitrate, r.mount, r.listen.builtin, r.listen.icecast.length, r.listeners >= 1]),
        [
          ['aac', 64, '/multi.aac', `${station.url}/multi.aac`, 1, true],
          ['opus', 48, '/multi.opus', `${station.url}/multi.opus`, 1, true],
          ['mp3', 64, '/multi-64.mp3', `${station.url}/multi-64.mp3`, 1, true],
        ],
      );
      assert.ok(view.listeners >= 4, `listeners of every format counted (${view.listeners})`);
      const az = (await (await fetch(`${station.url}/api/nowplaying/multi`)).json()) as {
        station: { mounts: { path: string; format: string; bitrate: number }[] };
      };
      assert.deepEqual(
        [...new Set(az.station.mounts.map((m) => `${m.path} ${m.format} ${m.bitrate}`))],
        ['/multi.mp3 mp3 128', '/multi.aac aac 64', '/multi.opus opus 48', '/multi-64.mp3 mp3 64'],
        "AzuraCast's mounts name each format",
      );
      for (const l of [...builtin, ...icecast]) l.close();
      const types = icecast.map((l) => l.headers['content-type']);
      assert.deepEqual(types, ['audio/mpeg', 'audio/aac', 'audio/ogg', 'audio/mpeg'], 'Icecast serves each format as such');
      assert.deepEqual(
        builtin.map((l) => l.headers['content-type']),
        ['audio/mpeg', 'audio/aac', 'audio/ogg', 'audio/mpeg'],
      );
      const expected = [
        ['mp3', '44100'],
        ['aac', '44100'],
        ['opus', '48000'],
        ['mp3', '44100'],
      ];
      for (const [where, listeners] of [
        ['built in', builtin],
        ['Icecast', icecast],
      ] as const) {
        for (const [i, l] of listeners.entries()) {
          const file = record(l, dir, `${where.replace(' ', '-')}-${i}${path.extname(mounts[i]!)}`);
          const stream = await probe(file);
          assert.deepEqual([stream.codec_name, stream.sample_rate], expected[i], `${where} ${mounts[i]}`);
          const titles = mounts[i]!.endsWith('.opus') ? oggTitles(l.audio()).map((t) => t.title) : l.titles.map((t) => t.title);
          const order = titles.filter((t) => t === '歌手 - 第一' || t === 'Second');
          assert.ok(order.length >= 3, `${where} ${mounts[i]}: titles ${JSON.stringify(titles)}`);
          for (let k = 1; k < order.length; k++) assert.notEqual(order[k], order[k - 1], `${where} ${mounts[i]}: titles alternate: ${JSON.stringify(titles)}`);
          // Both tones, steady: the songs play in this format, not silence or noise.
          const track = frequencyTrack(await decode(file));
          assert.ok(steadyToneWindows(track, 440) >= 50, `${where} ${mounts[i]}: 440 Hz heard (${steadyToneWindows(track, 440)} windows)`);
          assert.ok(steadyToneWindows(track, 1000) >= 50, `${where} ${mounts[i]}: 1000 Hz heard (${steadyToneWindows(track, 1000)} windows)`);
        }
      }
    } finally {
      await station.close();
      await ice.stop();
    }
  });
});

/** 3 s of a 440 Hz tone as 100 ms writes of s16le stereo, the second song marked 1.5 s + 100 samples in. */
function feedTone(enc: { write(pcm: Buffer): void; markSongStart(info: TrackInfo, delay?: number): void }): number {
  let t = 0;
  for (let w = 0; w < 30; w++) {
    const pcm = Buffer.alloc(4410 * 4);
    for (let i = 0; i < 4410; i++, t++) {
      const v = Math.round(8000 * Math.sin((2 * Math.PI * 440 * t) / 44100));
      pcm.writeInt16LE(v, i * 4);
      pcm.writeInt16LE(v, i * 4 + 2);
    }
    if (w === 15) enc.markSongStart({ key: 'b', source: 'file', title: 'Zwei', artist: 'B' }, 100);
    enc.write(pcm);
  }
  return t;
}

describe('Opus in Ogg, in process', () => {
  test('a new chained stream where a song starts, its title in OpusTags; the old one ends on its last real sample; no gap', async () => {
    const chunks: Buffer[] = [];
    const enc = new OpusOggEncoding({ bitrateKbps: 64, complexity: 5, onFrame: (f) => chunks.push(f.data), onFailed: (err) => assert.fail(err) });
    const mark = 66_150 + 100;
    const t = feedTone(enc);
    await enc.close();
    const stream = Buffer.concat(chunks);
    const pages = parseOggPages(stream);
    assert.equal(
      pages.reduce((n, p) => n + p.length, 0),
      stream.length,
      'whole pages only',
    );
    assert.ok(pages.every((p) => p.crcOk));
    const serials = [...new Set(pages.map((p) => p.serial))];
    assert.equal(serials.length, 2, 'two logical streams');
    const [first, second] = serials.map((s) => pages.filter((p) => p.serial === s));
    for (const chain of [first!, second!]) {
      assert.equal(chain[0]!.flags & OGG_BOS, OGG_BOS);
      assert.equal(chain.at(-1)!.flags & OGG_EOS, OGG_EOS);
      assert.deepEqual(
        chain.map((p) => p.sequence),
        chain.map((_, i) => i),
      );
    }
    assert.deepEqual(readOpusTags(second![1]!.packets[0]!)?.slice(0, 2), ['TITLE=Zwei', 'ARTIST=B']);
    const preSkip = first![0]!.packets[0]!.readUInt16LE(10);
    // The first stream ends on the mark's sample (at 48 kHz), its padding trimmed by that granule.
    assert.equal(Number(first!.at(-1)!.granule) - preSkip, Math.round((mark * 48000) / 44100));
    const total = Math.round((t * 48000) / 44100);
    assert.ok(Math.abs(Number(second!.at(-1)!.granule) - preSkip - (total - Math.round((mark * 48000) / 44100))) <= 1, 'the second ends where the input did');
    // Decoded as a player would: every sample back, and no gap at the seam.
    const pcm = await decodeAudio(stream, 'ogg');
    assert.ok(Math.abs(pcm.length - t) <= 2, `${pcm.length} samples decoded for ${t} written`);
    assert.deepEqual(silentRuns(pcm, 44100, 3), [], 'no silence at the seam');
  });
});

describe('AAC in process', () => {
  // 48 kbit/s: ffmpeg's twoloop coder; 64: its fast one (aacCoderFor).
  for (const kbps of [48, 64]) {
    test(`the same ADTS bytes as the ffmpeg process at ${kbps} kbit/s, the same frame marked for the next song`, async () => {
      const inProcess: PacedFrame<TrackInfo>[] = [];
      const lib = new AacAdtsEncoding({ bitrateKbps: kbps, onFrame: (f) => inProcess.push(f), onFailed: (err) => assert.fail(err) });
      const written = feedTone(lib);
      await lib.close();
      const child: PacedFrame<TrackInfo>[] = [];
      const ended = new Promise<void>((resolve) => {
        const session = new EncodingSession(
          { tool: 'ffmpeg', path: 'ffmpeg' },
          kbps,
          pino({ level: 'silent' }),
          { outputBlockMs: 0, codec: 'aac' },
          (f) => child.push(f),
          (err) => assert.fail(err),
        );
        feedTone(session);
        void session.close().then(resolve);
      });
      await ended;
      const ours = Buffer.concat(inProcess.map((f) => f.data));
      const theirs = Buffer.concat(child.map((f) => f.data));
      assert.ok(ours.length > kbps * 3 * 100, `${ours.length} bytes for 3 s at ${kbps} kbit/s`);
      assert.ok(ours.equals(theirs), `in process ${ours.length} bytes, ffmpeg ${theirs.length}: not the same stream`);
      // Every frame a whole ADTS frame of 1024 samples, AAC-LC stereo 44.1 kHz.
      for (const f of inProcess) {
        const h = parseAdtsHeader(f.data)!;
        assert.deepEqual([h.objectType, h.sampleRate, h.channels, h.frameLength, f.samples], [2, 44100, 2, f.data.length, 1024]);
      }
      const marked = (frames: PacedFrame<TrackInfo>[]) => frames.findIndex((f) => f.marker?.title === 'Zwei');
      // The song starts at sample 66 250; with 1024 of priming it is in frame 65 (samples 66 560 to 67 583 out).
      assert.equal(marked(inProcess), Math.floor((66_150 + 100 + 1024) / 1024));
      assert.equal(marked(inProcess), marked(child));
      const pcm = await decodeAudio(ours, 'aac');
      assert.ok(Math.abs(pcm.length - (written + 1024)) <= 1024, `${pcm.length} samples decoded for ${written} written (+ priming)`);
      assert.ok(steadyToneWindows(frequencyTrack(pcm), 440) > 100, 'the tone comes back');
    });
  }
});
