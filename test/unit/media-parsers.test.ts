import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { audioDurationFromMoov } from '../../src/acquire/mp4-duration.js';
import { parseDuration, parseFfmetadata } from '../../src/acquire/probe.js';

function box(type: string, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
}
const u32 = (...ns: number[]) =>
  Buffer.concat(
    ns.map((n) => {
      const b = Buffer.alloc(4);
      b.writeInt32BE(n | 0);
      return b;
    }),
  );

function moov(handler: string, timescale: number, edits: [number, number][] | null): Buffer {
  const mvhd = box('mvhd', u32(0, 0, 0, timescale, 0));
  const hdlr = box('hdlr', u32(0, 0), Buffer.from(handler, 'latin1'), u32(0, 0, 0));
  const elst = edits && box('elst', u32(0, edits.length), ...edits.map(([d, t]) => u32(d, t, 0x00010000)));
  const trak = box('trak', ...(elst ? [box('edts', elst)] : []), box('mdia', hdlr));
  return box('moov', mvhd, trak);
}

describe('MP4 audio duration from the edit list', () => {
  test('one edit: its duration in movie timescale', () => {
    assert.equal(audioDurationFromMoov(moov('soun', 44100, [[132300, 1024]])), 3);
  });
  test('an empty edit (-1, a delay) does not count as audio', () => {
    assert.equal(
      audioDurationFromMoov(
        moov('soun', 1000, [
          [500, -1],
          [2500, 2048],
        ]),
      ),
      2.5,
    );
  });
  test('no edit list, or no sound track: unknown', () => {
    assert.equal(audioDurationFromMoov(moov('soun', 44100, null)), null);
    assert.equal(audioDurationFromMoov(moov('vide', 44100, [[100, 0]])), null);
  });
  test('truncated boxes are not read past their end', () => {
    const m = moov('soun', 44100, [[132300, 1024]]);
    assert.doesNotThrow(() => audioDurationFromMoov(m.subarray(0, m.length - 10)));
  });
});

describe('ffmpeg output parsing', () => {
  test('ffmetadata: tags, escapes, album_artist fallback, chapters ignored', () => {
    const text = ';FFMETADATA1\ntitle=A\\=B\\;C\nalbum_artist=Band\nalbum=Über 歌\nencoder=x\n[CHAPTER]\ntitle=chapter\n';
    assert.deepEqual(parseFfmetadata(text), { title: 'A=B;C', artist: 'Band', album: 'Über 歌' });
    assert.deepEqual(parseFfmetadata(';FFMETADATA1\nartist=Solo\nalbum_artist=Band\n'), { artist: 'Solo' });
  });
  test('durations as ffmpeg prints them', () => {
    assert.equal(parseDuration('00:03:25.12'), 205_120);
    assert.equal(parseDuration('N/A'), undefined);
  });
});
