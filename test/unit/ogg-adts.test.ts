import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AdtsFrameSplitter, adtsHeader, parseAdtsHeader } from '../../src/audio/adts.js';
import { OGG_BOS, OGG_EOS, oggCrc, oggPage, opusHead, opusTags, parseOggPages, readOpusTags, segmentsOf } from '../../src/audio/ogg.js';

/** An ADTS header for AAC-LC, 44.1 kHz stereo, one raw block, `length` bytes in all, then filler. */
function adtsFrame(length: number, fill: number): Buffer {
  const b = Buffer.alloc(length, fill);
  b[0] = 0xff;
  b[1] = 0xf1; // MPEG-4, layer 0, no CRC
  b[2] = (1 << 6) | (4 << 2) | 0; // LC, 44.1 kHz, channel config high bit 0
  b[3] = (2 << 6) | ((length >> 11) & 0x03);
  b[4] = (length >> 3) & 0xff;
  b[5] = ((length & 0x07) << 5) | 0x1f;
  b[6] = 0xfc;
  return b;
}

describe('Ogg pages', () => {
  test('a page reads back with its packets, flags, granule and a valid CRC', () => {
    const packets = [Buffer.alloc(10, 1), Buffer.alloc(255, 2), Buffer.alloc(600, 3), Buffer.alloc(0)];
    const page = oggPage({ flags: OGG_EOS, granule: 123456789012n, serial: 0xdeadbeef, sequence: 7, packets });
    const [read] = parseOggPages(page);
    assert.ok(read);
    assert.equal(read.crcOk, true);
    assert.equal(read.flags, OGG_EOS);
    assert.equal(read.granule, 123456789012n);
    assert.equal(read.serial, 0xdeadbeef);
    assert.equal(read.sequence, 7);
    assert.deepEqual(read.packets, packets, 'a 255-byte packet ends with a 0 lacing value; an empty packet is one 0');
    assert.equal(read.length, page.length);
  });

  test('a flipped byte fails the CRC; too many segments is refused', () => {
    const page = oggPage({ flags: OGG_BOS, granule: 0n, serial: 1, sequence: 0, packets: [opusHead(2, 312, 44100)] });
    const bad = Buffer.from(page);
    bad.writeUInt8(bad.readUInt8(bad.length - 1) ^ 1, bad.length - 1);
    assert.equal(parseOggPages(bad)[0]!.crcOk, false);
    assert.equal(segmentsOf(255), 2);
    assert.throws(() => oggPage({ flags: 0, granule: 0n, serial: 1, sequence: 0, packets: [Buffer.alloc(255 * 255)] }), /at most 255 segments/);
  });

  test("Ogg's CRC of 'OggS' is what libogg gives", () => {
    // The CRC polynomial and order: checked against a page ffmpeg's muxer wrote (its stored CRC).
    const ffmpegPage = Buffer.from('4f6767530002000000000000000000000000000000000228b57201134f707573486561640101380180bb0000000000', 'hex');
    const stored = ffmpegPage.readUInt32LE(22);
    const zeroed = Buffer.from(ffmpegPage);
    zeroed.writeUInt32LE(0, 22);
    assert.equal(oggCrc(zeroed), stored);
  });

  test('OpusHead and OpusTags say what was given, a long title cut at a character boundary', () => {
    const head = opusHead(2, 312, 44100);
    assert.equal(head.toString('latin1', 0, 8), 'OpusHead');
    assert.equal(head.readUInt16LE(10), 312);
    assert.equal(head.readUInt32LE(12), 44100);
    const long = '歌'.repeat(600);
    const tags = readOpusTags(
      opusTags('sCast', [
        ['TITLE', long],
        ['ARTIST', 'A=B'],
      ]),
    )!;
    assert.equal(tags[1], 'ARTIST=A=B');
    assert.ok(Buffer.byteLength(tags[0]!) <= 1024 && tags[0]!.startsWith('TITLE=歌') && !tags[0]!.includes('\ufffd'));
    assert.equal(readOpusTags(Buffer.from('OpusHead and more bytes')), null);
  });
});

describe('ADTS frames', () => {
  test('a header gives the frame length, rate, channels and samples', () => {
    assert.deepEqual(parseAdtsHeader(adtsFrame(200, 0)), { objectType: 2, sampleRate: 44100, channels: 2, frameLength: 200, samples: 1024 });
    assert.equal(parseAdtsHeader(Buffer.from([0xff, 0xfb, 0x90, 0x64, 0, 0, 0])), null, 'an MP3 header is not ADTS');
  });

  test('a written header reads back as written; what ADTS cannot say is refused', () => {
    for (const [rate, channels, payload] of [
      [44100, 2, 0],
      [48000, 1, 371],
      [8000, 2, 0x1fff - 7],
    ] as const) {
      const h = adtsHeader(2, rate, channels, payload);
      assert.deepEqual(parseAdtsHeader(h), { objectType: 2, sampleRate: rate, channels, frameLength: payload + 7, samples: 1024 });
    }
    assert.throws(() => adtsHeader(2, 44000, 2, 10), /no sample rate 44000/);
    assert.throws(() => adtsHeader(2, 44100, 2, 0x1fff - 6), /at most 8184 bytes/);
  });

  test('the splitter gives the same frames however the bytes are cut, skipping garbage', () => {
    const frames = [adtsFrame(180, 0x11), adtsFrame(260, 0xff), adtsFrame(7 + 1, 0x22), adtsFrame(300, 0x33)];
    const stream = Buffer.concat([Buffer.from([0x12, 0xff, 0x00, 0xff, 0xf9]), ...frames]);
    for (let cut = 1; cut < stream.length; cut++) {
      const s = new AdtsFrameSplitter();
      const out = [...s.push(stream.subarray(0, cut)), ...s.push(stream.subarray(cut)), ...s.push(adtsFrame(100, 0))];
      assert.deepEqual(
        out.slice(0, 4).map((f) => f.data),
        frames,
        `cut at ${cut}`,
      );
    }
  });
});
