import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { imageType } from '../../src/kernel/image-type.js';
import { ArtLinks, DEFAULT_ART_PATH, artPath } from '../../src/outputs/art-links.js';
import type { ArtStore } from '../../src/acquire/art/art-store.js';

describe('cover art links and picture formats', () => {
  test('a song shows its own picture, else its channel’s, else the station’s, else the built-in one', () => {
    const known = new Map([
      ['/pics/channel.png', 'cccccccccccccccccccccccc'],
      ['https://img.example/station.jpg', '555555555555555555555555'],
    ]);
    const store = { peek: (ref: string) => known.get(ref) ?? null } as unknown as ArtStore;
    const links = new ArtLinks(store, 'https://img.example/station.jpg');
    const own = { artId: 'aaaaaaaaaaaaaaaaaaaaaaaa' };
    assert.equal(links.path(own, { art: '/pics/channel.png' }), '/art/aaaaaaaaaaaaaaaaaaaaaaaa.jpg');
    assert.equal(links.path(own, {}, 96), '/art/aaaaaaaaaaaaaaaaaaaaaaaa-96.jpg');
    assert.equal(links.path({}, { art: '/pics/channel.png' }, 300), '/art/cccccccccccccccccccccccc-300.jpg');
    assert.equal(links.path(null, { art: '/pics/not-made-yet.png' }), '/art/555555555555555555555555.jpg');
    assert.equal(new ArtLinks(store).path(null, {}), DEFAULT_ART_PATH);
    assert.equal(new ArtLinks(null, 'https://img.example/station.jpg').path(own, {}), artPath(own.artId));
  });

  test('formats by their first bytes only: JPEG, PNG, WebP; HTML, SVG, GIF and short input are none', () => {
    assert.equal(imageType(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10])), 'jpeg');
    assert.equal(imageType(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0])), 'png');
    assert.equal(imageType(Buffer.from('RIFF\u0000\u0000\u0000\u0000WEBPVP8 ', 'latin1')), 'webp');
    for (const other of ['<html>', '<svg xmlns="http://www.w3.org/2000/svg"/>', 'GIF89a', 'RIFF\u0000\u0000\u0000\u0000WAVEfmt ', '']) {
      assert.equal(imageType(Buffer.from(other, 'latin1')), null, other);
    }
    assert.equal(imageType(Buffer.from([0xff, 0xd8])), null, 'two bytes are not a JPEG');
  });
});
