import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeIcyMetadata, IcyReader, IcyWriter, parseIcyText } from '../../src/audio/icy.js';

describe('ICY metadata', () => {
  test('a block is a length byte and NUL-padded 16-byte units', () => {
    const b = encodeIcyMetadata('Artist - Title');
    const text = "StreamTitle='Artist - Title';";
    assert.equal(b[0], Math.ceil(text.length / 16));
    assert.equal(b.length, 1 + b[0]! * 16);
    assert.equal(b.subarray(1).toString('utf8').replace(/\0+$/, ''), text);
  });

  test("Chinese, quotes, & ; and emoji survive as a player parses them; a ' inside a title is typeset, so it cannot end the field", () => {
    for (const [title, shown] of [
      ['歌手 - 测试歌曲', '歌手 - 测试歌曲'],
      ['Q"uote - Don\'t Stop & go; now 🎵', 'Q"uote - Don\u2019t Stop & go; now 🎵'],
      ["it's';'tricky", 'it\u2019s\u2019;\u2019tricky'],
    ] as const) {
      const b = encodeIcyMetadata(title, 'http://x/y');
      const raw = b.subarray(1).toString('utf8').replace(/\0+$/, '');
      assert.deepEqual(parseIcyText(raw), { title: shown, url: 'http://x/y' });
      assert.equal(parseIcyText(`StreamTitle='${title}';`).title, title);
    }
  });

  test('an overlong title is cut on a character boundary to fit one block', () => {
    const b = encodeIcyMetadata('歌'.repeat(3000));
    assert.ok(b.length <= 1 + 255 * 16);
    const raw = b.subarray(1).toString('utf8').replace(/\0+$/, '');
    assert.ok(!raw.includes('\ufffd'), 'no broken character');
    assert.match(raw, /^StreamTitle='歌+';$/);
  });

  test('writer and reader agree at every split point', () => {
    const metaint = 100;
    const audio = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    const w = new IcyWriter(metaint);
    const parts: Buffer[] = [];
    w.setTitle('first 歌');
    parts.push(...w.write(audio.subarray(0, 350)));
    w.setTitle('second');
    parts.push(...w.write(audio.subarray(350)));
    const wire = Buffer.concat(parts);
    for (let cut = 0; cut <= wire.length; cut++) {
      const got: Buffer[] = [];
      const titles: [string | undefined, number][] = [];
      const r = new IcyReader(
        metaint,
        (a) => got.push(Buffer.from(a)),
        (ev) => titles.push([ev.title, ev.audioOffset]),
      );
      r.push(wire.subarray(0, cut));
      r.push(wire.subarray(cut));
      assert.ok(Buffer.concat(got).equals(audio), `audio at cut ${cut}`);
      assert.deepEqual(
        titles,
        [
          ['first 歌', 100],
          ['second', 400],
        ],
        `titles at cut ${cut}`,
      );
    }
  });

  test('an unchanged title is a single zero byte', () => {
    const w = new IcyWriter(4);
    const out = Buffer.concat(w.write(Buffer.from('abcdefgh')));
    assert.deepEqual([...out], [...Buffer.from('abcd'), 0, ...Buffer.from('efgh'), 0]);
  });
});
