import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Mp3FrameSplitter, parseFrameHeader, frameSeconds, type MpegVersion } from '../../src/audio/mp3.js';
import { silentFrame } from '../../src/audio/silence.js';

// Independent tables (ISO 11172-3 / 13818-3), not imported from the code under test.
const BITRATES: Record<string, number[]> = {
  '1': [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  '2': [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const RATES: Record<string, number[]> = { '1': [44100, 48000, 32000], '2': [22050, 24000, 16000], '2.5': [11025, 12000, 8000] };
const VERSION_BITS: Record<string, number> = { '1': 3, '2': 2, '2.5': 0 };

function header(version: MpegVersion, brIndex: number, srIndex: number, pad: boolean, mode = 1): Buffer {
  return Buffer.from([0xff, 0xe0 | (VERSION_BITS[String(version)]! << 3) | (1 << 1) | 1, (brIndex << 4) | (srIndex << 2) | (pad ? 2 : 0), mode << 6]);
}

function frame(version: MpegVersion, brIndex: number, srIndex: number, pad: boolean, fill: number): Buffer {
  const h = header(version, brIndex, srIndex, pad);
  const len = parseFrameHeader(h)!.frameLength;
  const f = Buffer.alloc(len, fill);
  h.copy(f);
  return f;
}

describe('MP3 frame headers', () => {
  test('every Layer III bitrate and sample rate of MPEG-1, 2 and 2.5', () => {
    let count = 0;
    for (const version of [1, 2, 2.5] as MpegVersion[]) {
      const brs = BITRATES[version === 1 ? '1' : '2']!;
      for (let bi = 1; bi <= 14; bi++) {
        for (let si = 0; si < 3; si++) {
          for (const pad of [false, true]) {
            const h = parseFrameHeader(header(version, bi, si, pad));
            assert.ok(h, `v${version} br${bi} sr${si}`);
            const sr = RATES[String(version)]![si]!;
            assert.equal(h.version, version);
            assert.equal(h.bitrateKbps, brs[bi - 1]);
            assert.equal(h.sampleRate, sr);
            assert.equal(h.samplesPerFrame, version === 1 ? 1152 : 576);
            const slotBytes = (h.samplesPerFrame / 8) * ((brs[bi - 1]! * 1000) / sr);
            assert.equal(h.frameLength, Math.floor(slotBytes) + (pad ? 1 : 0));
            count++;
          }
        }
      }
    }
    assert.equal(count, 3 * 14 * 3 * 2);
  });

  test('known frame sizes and durations', () => {
    assert.equal(parseFrameHeader(header(1, 9, 0, false))!.frameLength, 417); // 128k 44.1k
    assert.equal(parseFrameHeader(header(1, 9, 0, true))!.frameLength, 418);
    assert.equal(parseFrameHeader(header(1, 14, 1, false))!.frameLength, 960); // 320k 48k
    assert.equal(parseFrameHeader(header(2, 1, 2, false))!.frameLength, 36); // 8k 16k
    assert.equal(parseFrameHeader(header(2.5, 14, 2, false))!.frameLength, 1440); // 160k 8k
    assert.ok(Math.abs(frameSeconds(parseFrameHeader(header(1, 9, 0, false))!) - 0.0261224) < 1e-6);
    assert.equal(parseFrameHeader(header(1, 9, 0, false, 3))!.channels, 1);
  });

  test('refuses what is not a Layer III header', () => {
    const ok = header(1, 9, 0, false);
    const bad = (mutate: (b: Buffer) => void): Buffer => {
      const b = Buffer.from(ok);
      mutate(b);
      return b;
    };
    assert.equal(parseFrameHeader(bad((b) => (b[0] = 0xfe))), null, 'no sync');
    assert.equal(parseFrameHeader(bad((b) => (b[1] = (b[1]! & ~0x18) | 0x08))), null, 'reserved version');
    assert.equal(parseFrameHeader(bad((b) => (b[1] = (b[1]! & ~0x06) | 0x04))), null, 'layer II');
    assert.equal(parseFrameHeader(bad((b) => (b[1] = (b[1]! & ~0x06) | 0x06))), null, 'layer I');
    assert.equal(parseFrameHeader(bad((b) => (b[2] = b[2]! & 0x0f))), null, 'free format');
    assert.equal(parseFrameHeader(bad((b) => (b[2] = b[2]! | 0xf0))), null, 'bad bitrate');
    assert.equal(parseFrameHeader(bad((b) => (b[2] = b[2]! | 0x0c))), null, 'bad sample rate');
    assert.equal(parseFrameHeader(bad((b) => (b[3] = b[3]! | 0x02))), null, 'reserved emphasis');
    assert.equal(parseFrameHeader(ok.subarray(0, 3)), null, 'short');
  });

  test('the silent frame is a valid 128 kbit/s MPEG-1 frame', () => {
    const f = silentFrame(128);
    const h = parseFrameHeader(f)!;
    assert.equal(f.length, h.frameLength);
    assert.equal(h.bitrateKbps, 128);
    assert.equal(h.sampleRate, 44100);
    assert.throws(() => silentFrame(130), RangeError);
  });
});

describe('MP3 frame splitter', () => {
  const frames = [
    frame(1, 9, 0, false, 0x11),
    frame(1, 9, 0, true, 0x22),
    frame(1, 10, 0, false, 0x33),
    frame(1, 9, 0, false, 0x44),
    frame(1, 5, 0, true, 0x55),
  ];
  // Garbage with a false sync word whose "next frame" does not follow.
  const garbage = Buffer.concat([Buffer.from('ID3 junk'), header(1, 9, 0, false), Buffer.from([1, 2, 3, 0xff, 0x00])]);
  const stream = Buffer.concat([garbage, ...frames]);
  // The last frame can only be confirmed by what follows: end with a next header.
  const input = Buffer.concat([stream, header(1, 9, 0, false)]);

  function run(chunks: Buffer[]): Buffer[] {
    const s = new Mp3FrameSplitter();
    return chunks.flatMap((c) => s.push(c).map((f) => Buffer.from(f.data)));
  }

  test('whole input: skips garbage and the false sync, yields every frame', () => {
    const out = run([input]);
    assert.equal(out.length, frames.length);
    out.forEach((f, i) => assert.ok(f.equals(frames[i]!), `frame ${i}`));
  });

  test('split at every byte boundary', () => {
    for (let cut = 1; cut < input.length; cut++) {
      const out = run([input.subarray(0, cut), input.subarray(cut)]);
      assert.equal(out.length, frames.length, `cut at ${cut}`);
      out.forEach((f, i) => assert.ok(f.equals(frames[i]!), `cut at ${cut}, frame ${i}`));
    }
  });

  test('byte by byte', () => {
    const out = run([...input].map((b) => Buffer.from([b])));
    assert.deepEqual(
      out.map((f) => f.length),
      frames.map((f) => f.length),
    );
  });

  test('resyncs after corruption in the middle', () => {
    const corrupt = Buffer.concat([frames[0]!, frames[1]!, Buffer.from([0xde, 0xad]), frames[2]!, frames[3]!, header(1, 9, 0, false)]);
    const out = run([corrupt]);
    assert.deepEqual(
      out.map((f) => f[5]),
      [0x11, 0x22, 0x33, 0x44],
    );
  });
});
