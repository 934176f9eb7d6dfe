import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import { id3Tag, readId3 } from '../../src/audio/id3.js';
import { masterPlaylist, mediaPlaylist } from '../../src/outputs/hls/playlists.js';
import { HlsSegmenter } from '../../src/outputs/hls/segmenter.js';
import type { AudioSource, NowPlaying } from '../../src/playout/now-playing.js';

/** Whole ADTS frames (AAC-LC, 44.1 kHz, stereo), `n` of them, each 100 bytes. */
function adtsFrames(n: number): Buffer {
  const frames: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const b = Buffer.alloc(100, 0x21);
    b[0] = 0xff;
    b[1] = 0xf1;
    b[2] = (1 << 6) | (4 << 2);
    b[3] = 2 << 6;
    b[4] = (100 >> 3) & 0xff;
    b[5] = ((100 & 0x07) << 5) | 0x1f;
    b[6] = 0xfc;
    frames.push(b);
  }
  return Buffer.concat(frames);
}

describe('ID3 tags for HLS packed audio', () => {
  test('a timestamp, a title, an artist and a URL read back; the timestamp in 90 kHz ticks, wrapped at 2^33', () => {
    const tag = id3Tag({ timestampSeconds: 12.345678, title: '晚上的歌', artist: 'A', url: 'https://r.example/art/x.jpg' });
    const read = readId3(Buffer.concat([tag, Buffer.from('after')]));
    assert.equal(read?.length, tag.length);
    assert.deepEqual(read?.frames, { PRIV: Math.round(12.345678 * 90_000) / 90_000, TIT2: '晚上的歌', TPE1: 'A', WXXX: 'https://r.example/art/x.jpg' });
    const wrapped = readId3(id3Tag({ timestampSeconds: 2 ** 33 / 90_000 + 1 }))!;
    assert.ok(Math.abs((wrapped.frames.PRIV as number) - 1) < 1e-6);
    assert.equal(readId3(Buffer.from('not a tag')), null);
  });
});

describe('HLS playlists', () => {
  test('master: each variant with its bandwidth and codec, the richest first', () => {
    assert.equal(
      masterPlaylist([
        { uri: 'aac_64/index.m3u8', bitrateKbps: 64, codecs: 'mp4a.40.2', name: 'aac_64' },
        { uri: 'aac_128/index.m3u8', bitrateKbps: 128, codecs: 'mp4a.40.2', name: 'aac_128' },
      ]),
      [
        '#EXTM3U',
        '#EXT-X-VERSION:3',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-STREAM-INF:BANDWIDTH=140800,AVERAGE-BANDWIDTH=128000,CODECS="mp4a.40.2",NAME="aac_128"',
        'aac_128/index.m3u8',
        '#EXT-X-STREAM-INF:BANDWIDTH=70400,AVERAGE-BANDWIDTH=64000,CODECS="mp4a.40.2",NAME="aac_64"',
        'aac_64/index.m3u8',
        '',
      ].join('\n'),
    );
  });

  test('media: the target duration is the longest segment rounded up; each segment with its time', () => {
    const text = mediaPlaylist(
      [
        { name: 'ab-7.aac', duration: 4.0170068, startedAt: '2026-12-06T07:00:00.000Z' },
        { name: 'ab-8.aac', duration: 4.2, startedAt: '2026-12-06T07:00:04.017Z' },
      ],
      7,
      4,
    );
    assert.equal(
      text,
      [
        '#EXTM3U',
        '#EXT-X-VERSION:3',
        '#EXT-X-TARGETDURATION:5',
        '#EXT-X-MEDIA-SEQUENCE:7',
        '#EXT-X-PROGRAM-DATE-TIME:2026-12-06T07:00:00.000Z',
        '#EXTINF:4.017,',
        'ab-7.aac',
        '#EXT-X-PROGRAM-DATE-TIME:2026-12-06T07:00:04.017Z',
        '#EXTINF:4.200,',
        'ab-8.aac',
        '',
      ].join('\n'),
    );
  });
});

describe('HLS segmenter', () => {
  test('segments of whole frames past the target; an ID3 timestamp first; a title tag right before the song', () => {
    const source = Object.assign(new EventEmitter(), { id: 'c', nowPlaying: null as NowPlaying | null }) as AudioSource & { nowPlaying: NowPlaying | null };
    const segs: { duration: number; data: Buffer }[] = [];
    const seg = new HlsSegmenter(source, { targetSeconds: 1, keep: 3, window: 2, onSegment: (s) => segs.push(s) });
    // 100 ms chunks of 4 or 5 frames (1024 samples each), as a paced AAC rendition sends them.
    let pos = 0;
    for (let i = 0; i < 40; i++) {
      const n = i % 2 === 0 ? 4 : 5;
      if (i === 13) source.emit('track', { key: 'b', source: 'file', title: 'B', artist: 'Art', startedAt: '' });
      source.emit('audio', adtsFrames(n), pos);
      pos += (n * 1024) / 44100;
    }
    assert.equal(segs.length, 4);
    assert.equal(seg.segments.length, 3, 'only `keep` kept');
    assert.deepEqual(
      seg.live.segments.map((s) => s.sequence),
      [2, 3],
    );
    for (const s of segs) assert.ok(s.duration >= 1 && s.duration < 1 + 1024 / 44100, `${s.duration}: ends on the first frame past 1 s`);
    // The first segment opens with a timestamp of 0; the second with its own first sample's time.
    assert.equal(readId3(segs[0]!.data)?.frames.PRIV, 0);
    assert.ok(Math.abs((readId3(segs[1]!.data)!.frames.PRIV as number) - segs[0]!.duration) < 1e-4);
    // The title: inside the segment where it started (chunk 13 of ~100 ms), before that chunk's frames.
    const second = segs[1]!.data;
    const at = second.indexOf(Buffer.from('ID3'), 10);
    assert.ok(at > 0, 'an inline tag');
    assert.deepEqual(readId3(second.subarray(at))?.frames, { TIT2: 'B', TPE1: 'Art' });
    seg.close();
    assert.equal(source.listenerCount('audio'), 0);
  });
  test('a segment ends mid-chunk, on the first frame past the target, and the rest of the chunk opens the next (250 ms chunks)', () => {
    const source = Object.assign(new EventEmitter(), { id: 'c', nowPlaying: null as NowPlaying | null }) as AudioSource & { nowPlaying: NowPlaying | null };
    const segs: { duration: number; data: Buffer }[] = [];
    const seg = new HlsSegmenter(source, { targetSeconds: 1, keep: 10, window: 10, onSegment: (s) => segs.push(s) });
    for (let i = 0; i < 20; i++) source.emit('audio', adtsFrames(11), (i * 11 * 1024) / 44100);
    // 220 frames: 44 frames (1.0216 s) a segment, five of them, nothing left open.
    assert.deepEqual(
      segs.map((s) => Math.round((s.duration * 44100) / 1024)),
      [44, 44, 44, 44, 44],
    );
    let before = 0;
    for (const s of segs) {
      assert.ok(Math.abs((readId3(s.data)!.frames.PRIV as number) - before) < 1e-4, "each opens with its own first sample's time");
      before += s.duration;
    }
    seg.close();
  });
});
