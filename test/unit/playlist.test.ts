import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { loadPlaylistFile, parsePlaylist } from '../../src/config/playlist-file.js';
import { PlaylistError } from '../../src/kernel/errors.js';

const good = {
  name: 'R',
  mount: '/radio.mp3',
  tracks: [
    { source: 'file', path: 'a.m4a' },
    { source: 'url', url: 'https://x.org/a.mp3' },
    { source: 'qq', id: '0039MnYb0qxYhV', title: 'T' },
  ],
};

function errorOf(fn: () => unknown): PlaylistError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PlaylistError, String(err));
    return err;
  }
  assert.fail('no error');
}
const parse = (v: unknown, file = 'p.json') => parsePlaylist(file, Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)));

describe('playlist schema', () => {
  test('defaults are applied', () => {
    const p = parse(good);
    assert.equal(p.bitrate, 128);
    assert.equal(p.order, 'sequential');
    assert.equal(p.loop, true);
    assert.equal(p.public, false);
    assert.equal(p.tracks.length, 3);
    assert.equal(p.crossfade, 0, 'gapless unless asked');
    assert.deepEqual(p.loudness, { target: -16, ceiling: -2 });
  });

  test('sound fields: crossfade, fades, cues and gain are checked with their path', () => {
    const p = parse({ ...good, crossfade: 3, tracks: [{ source: 'file', path: 'a.m4a', fadeIn: 0.5, fadeOut: 4, cueIn: 1, cueOut: 200, gain: -3 }] });
    assert.equal(p.crossfade, 3);
    assert.deepEqual(p.tracks[0], { source: 'file', path: 'a.m4a', fadeIn: 0.5, fadeOut: 4, cueIn: 1, cueOut: 200, gain: -3 });
    const bad = errorOf(() => parse({ ...good, crossfade: -1, tracks: [{ source: 'file', path: 'a.m4a', fadeIn: 31, fadeOut: -2, cueIn: 10, cueOut: 5 }] }));
    const where = bad.issues.map((i) => i.where).sort();
    assert.deepEqual(where, ['crossfade', 'tracks[0].cueOut', 'tracks[0].fadeIn', 'tracks[0].fadeOut']);
    assert.match(bad.message, /p\.json/);
  });

  test('errors name the file, the JSON path and the reason', () => {
    const e = errorOf(() =>
      parse({ ...good, bitrate: 100, tracks: [{ source: 'file', path: 'a' }, { source: 'file' }, { source: 'ftp', url: 'x' }] }, 'mine.json'),
    );
    assert.equal(e.code, 'SCAST_PLAYLIST_INVALID');
    assert.equal(e.file, 'mine.json');
    const wheres = e.issues.map((i) => i.where);
    assert.ok(wheres.includes('bitrate'), wheres.join());
    assert.ok(wheres.includes('tracks[1].path'), wheres.join());
    assert.ok(wheres.includes('tracks[2].source') || wheres.includes('tracks[2]'), wheres.join());
    assert.match(e.message, /^mine\.json: bitrate: must be one of/m);
    assert.match(e.message, /source must be one of "file", "url", "qq"/);
  });

  test('unknown fields, missing mount, bad URLs and control characters are refused', () => {
    assert.ok(errorOf(() => parse({ ...good, colour: 'red' })).message.includes('colour'));
    assert.ok(errorOf(() => parse({ name: 'x', tracks: [] })).issues.some((i) => i.where === 'mount'));
    assert.ok(errorOf(() => parse({ ...good, tracks: [{ source: 'url', url: 'file:///etc/passwd' }] })).issues.some((i) => i.where === 'tracks[0].url'));
    assert.ok(errorOf(() => parse({ ...good, name: 'a\nb' })).issues.some((i) => i.where === 'name'));
    assert.ok(errorOf(() => parse({ ...good, tracks: [{ source: 'qq', id: '../x' }] })).issues.some((i) => i.where === 'tracks[0].id'));
  });

  test('mounts that collide with the station routes or escape are refused', () => {
    for (const mount of ['/api', '/api/x', '/ws', '/health', '/metrics', 'radio.mp3', '/a/../b', '/a b', '/']) {
      assert.ok(
        errorOf(() => parse({ ...good, mount })).issues.some((i) => i.where === 'mount'),
        mount,
      );
    }
    assert.equal(parse({ ...good, mount: '/jazz/live.mp3' }).mount, '/jazz/live.mp3');
  });

  test('not JSON: the line and column are given', () => {
    const e = errorOf(() => parse('{\n  "name": "x",\n  oops\n}'));
    assert.match(e.message, /not valid JSON/);
    assert.match(e.message, /line 3, column 3/);
    // Errors Node 20 does not place are located too.
    assert.match(errorOf(() => parse('{ "tracks": [ oops ] }')).message, /line 1, column 15/);
    assert.match(errorOf(() => parse('{\n"a": [1, 2,, 3]\n}')).message, /line 2, column 12/);
  });

  test('non-UTF-8 bytes are refused', () => {
    const e = errorOf(() => parsePlaylist('p.json', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])));
    assert.match(e.message, /not valid UTF-8/);
  });

  test('too many tracks are refused', () => {
    const tracks = Array.from({ length: 100_000 }, (_, i) => ({ source: 'file', path: `${i}.mp3` }));
    const e = errorOf(() => parse({ ...good, tracks }));
    assert.ok(e.issues.some((i) => i.where === 'tracks' && /at most/.test(i.message)));
  });
});

describe('playlist files', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'scast-pl-'));
  mkdirSync(path.join(dir, 'media'));

  test('file paths are resolved against the playlist and kept inside the folder', async () => {
    writeFileSync(path.join(dir, 'ok.json'), JSON.stringify({ ...good, tracks: [{ source: 'file', path: 'media/a.m4a' }] }));
    const loaded = await loadPlaylistFile(path.join(dir, 'ok.json'), [dir]);
    assert.equal(loaded.id, 'ok');
    assert.equal((loaded.playlist.tracks[0] as { path: string }).path, path.join(dir, 'media/a.m4a'));
    writeFileSync(path.join(dir, 'escape.json'), JSON.stringify({ ...good, tracks: [{ source: 'file', path: '../../etc/passwd' }] }));
    await assert.rejects(loadPlaylistFile(path.join(dir, 'escape.json'), [dir]), (err: PlaylistError) => {
      assert.ok(err.issues.some((i) => i.where === 'tracks[0].path' && /outside/.test(i.message)));
      return true;
    });
  });

  test('art: URLs kept, paths resolved on songs, collections and the channel; a path outside or a script URL refused where it is', async () => {
    writeFileSync(
      path.join(dir, 'art.json'),
      JSON.stringify({
        ...good,
        art: 'media/channel.png',
        tracks: [
          { source: 'file', path: 'media/a.m4a', art: 'https://img.example/a.jpg' },
          { source: 'folder', path: 'media', art: 'media/folder.jpg' },
        ],
      }),
    );
    const { playlist } = await loadPlaylistFile(path.join(dir, 'art.json'), [dir]);
    assert.equal(playlist.art, path.join(dir, 'media/channel.png'));
    assert.equal((playlist.tracks[0] as { art: string }).art, 'https://img.example/a.jpg');
    assert.equal((playlist.tracks[1] as { art: string }).art, path.join(dir, 'media/folder.jpg'));
    writeFileSync(path.join(dir, 'art-out.json'), JSON.stringify({ ...good, tracks: [{ source: 'file', path: 'media/a.m4a', art: '../../etc/shadow' }] }));
    await assert.rejects(loadPlaylistFile(path.join(dir, 'art-out.json'), [dir]), (err: PlaylistError) => {
      assert.ok(
        err.issues.some((i) => i.where === 'tracks[0].art' && /outside/.test(i.message)),
        JSON.stringify(err.issues),
      );
      return true;
    });
    for (const bad of ['javascript:alert(1)', 'data:image/png;base64,AAAA', 'file:///etc/passwd', 'a\nb', '']) {
      const e = errorOf(() => parse({ ...good, art: bad }));
      assert.ok(
        e.issues.some((i) => i.where === 'art'),
        `${JSON.stringify(bad)}: ${JSON.stringify(e.issues)}`,
      );
    }
  });

  test('a file over the size limit is refused before parsing', async () => {
    const file = path.join(dir, 'big.json');
    writeFileSync(file, `{"name":"x","mount":"/x","tracks":[],"pad":"${'x'.repeat(6 * 1024 * 1024)}"}`);
    await assert.rejects(loadPlaylistFile(file, [dir]), /is 6291\d+ bytes, over the 5242880-byte limit/);
  });
});
