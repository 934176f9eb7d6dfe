import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { ArtStore } from '../../src/acquire/art/art-store.js';
import { AddressPolicy } from '../../src/config/address-policy.js';
import { AUDIO_DEMUXERS } from '../../src/ffmpeg/input.js';
import { jpegSize } from '../helpers/jpeg.js';
import { listen } from '../helpers/listener.js';
import { makeCover, makeImage, makeTone } from '../helpers/media.js';
import { captureLogs, runStation, tempDir, writePlaylist } from '../helpers/station.js';
import { startIcecast } from '../helpers/icecast.js';
import { until } from '../helpers/ports.js';

const run = promisify(execFile);

/** A plain image of w x h in the format its name says. */
const image = (file: string, w: number, h: number, color = 'teal'): Promise<string> => makeImage(file, w, h, `color=c=${color}`);

describe('cover art: pictures made once, at three sizes, from every source', { timeout: 120_000 }, () => {
  const dir = tempDir('art-media');
  const logs = captureLogs();
  let server: ReturnType<typeof createServer>;
  let base = '';
  const served = new Map<string, { type: string; body: Buffer }>();
  let hits = 0;

  before(async () => {
    server = createServer((req, res) => {
      hits++;
      const f = served.get(req.url ?? '');
      if (!f) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': f.type, 'content-length': f.body.length }).end(f.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  const store = (sub: string, allow: string[] = ['127.0.0.1'], retryAfterMs?: number): ArtStore =>
    new ArtStore({
      dir: path.join(dir, sub),
      ffmpeg: 'ffmpeg',
      policy: new AddressPolicy(allow),
      roots: [dir],
      logger: logs.logger,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });

  test('a picture in a file: JPEGs at 600/300/96 px, never enlarged, named by content; a restart makes nothing again', async () => {
    const cover = await makeCover(path.join(dir, 'cover.png'), 400);
    const a = await makeTone({ file: path.join(dir, 'a.mp3'), freq: 440, seconds: 1, args: ['-c:a', 'libmp3lame'], cover });
    const b = await makeTone({ file: path.join(dir, 'b.mp3'), freq: 550, seconds: 1, args: ['-c:a', 'libmp3lame'], cover });
    const s = store('one');
    await s.load();
    const [idA, idB] = await Promise.all([a, b].map((f) => s.get(`embedded:${f}`, f, async () => ({ file: f, attached: AUDIO_DEMUXERS }))));
    assert.match(idA ?? '', /^[0-9a-f]{24}$/);
    assert.equal(idB, idA, 'one picture in two files: one id');
    assert.equal(s.made, 2);
    const sizes = await Promise.all(([600, 300, 96] as const).map(async (px) => jpegSize(readFileSync((await s.file(idA!, px))!))));
    assert.deepEqual(sizes, [
      { width: 400, height: 400 },
      { width: 300, height: 300 },
      { width: 96, height: 96 },
    ]);
    // The same picture as MP4 `covr` and as a FLAC picture block: the same id.
    for (const [ext, codec] of [
      ['m4a', 'aac'],
      ['flac', 'flac'],
    ] as const) {
      const bare = path.join(dir, `bare.${ext}`);
      const withCover = path.join(dir, `cover.${ext}`);
      await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=f=440:d=1', '-c:a', codec, bare]);
      await run('ffmpeg', [
        '-hide_banner',
        '-loglevel',
        'error',
        '-y',
        '-i',
        bare,
        '-i',
        cover,
        '-map',
        '0',
        '-map',
        '1',
        '-c',
        'copy',
        '-disposition:v:0',
        'attached_pic',
        withCover,
      ]);
      assert.equal(await s.get(`embedded:${withCover}`, withCover, async () => ({ file: withCover, attached: AUDIO_DEMUXERS })), idA, ext);
    }
    const again = store('one');
    await again.load();
    assert.equal(await again.get(`embedded:${a}`, a, () => Promise.reject(new Error('must not be asked'))), idA);
    assert.equal(again.made, 0);
    assert.equal(await again.file('../../etc/passwd' as string, 600), null, 'ids are checked');
    // Pictures no remembered source names (forgotten past MAX_INDEX_ENTRIES) and a crash's leftovers go at the next start.
    const orphan = path.join(dir, 'one', `${'e'.repeat(24)}-600.jpg`);
    writeFileSync(orphan, 'x');
    writeFileSync(path.join(dir, 'one', 'tmp', 'leftover-600.jpg'), 'x');
    const third = store('one');
    await third.load();
    assert.equal(existsSync(orphan), false, 'an orphan picture is removed');
    assert.deepEqual(readdirSync(path.join(dir, 'one', 'tmp')), []);
    assert.ok(await third.file(idA!, 96), 'a remembered picture stays');
  });

  test('a URL or a path: kept to its aspect; HTML, SVG, a huge picture, a file outside the roots and a refused address give no art, with a reason', async () => {
    served.set('/wide.png', { type: 'image/png', body: readFileSync(await image(path.join(dir, 'wide.png'), 1200, 600)) });
    served.set('/page.jpg', { type: 'image/jpeg', body: Buffer.from('<html><body>not a picture</body></html>') });
    served.set('/logo.svg', { type: 'image/jpeg', body: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>') });
    served.set('/huge.png', { type: 'image/png', body: readFileSync(await image(path.join(dir, 'huge.png'), 7000, 6000)) });
    const s = store('two');
    await s.load();
    const wide = await s.fromRef(`${base}/wide.png`);
    assert.ok(wide);
    assert.deepEqual(jpegSize(readFileSync((await s.file(wide, 600))!)), { width: 600, height: 300 });
    assert.deepEqual(jpegSize(readFileSync((await s.file(wide, 96))!)), { width: 96, height: 48 });
    for (const bad of ['/page.jpg', '/logo.svg', '/huge.png', '/missing.jpg']) assert.equal(await s.fromRef(`${base}${bad}`), null, bad);
    const reasons = logs.find(/no cover art from this source/).map((l) => String(l.err));
    assert.ok(
      reasons.some((r) => /not a JPEG, PNG or WebP/.test(r)),
      reasons.join('\n'),
    );
    assert.ok(
      reasons.some((r) => /max_pixels|too large|Picture size|Invalid|dimensions/i.test(r)),
      `the huge picture is refused: ${reasons.join('\n')}`,
    );
    assert.ok(
      reasons.some((r) => /HTTP 404/.test(r)),
      reasons.join('\n'),
    );
    mkdirSync(path.join(dir, 'pics'), { recursive: true });
    const local = await image(path.join(dir, 'pics', 'local.webp'), 300, 300, 'orange');
    assert.ok(await s.fromRef(local), 'a WebP file inside the roots');
    assert.equal(await s.fromRef('/etc/hostname'), null, 'outside the roots');
    const refused = store('three', []);
    await refused.load();
    assert.equal(await refused.fromRef(`${base}/wide.png`), null, 'loopback without MEDIA_ALLOW_HOSTS');
    assert.ok(logs.find(/no cover art from this source/).some((l) => /refused|not allowed|private|loopback/i.test(String(l.err))));
  });

  test('a source that gave none is asked again only after retryAfterMs', async () => {
    const s = store('four', ['127.0.0.1'], 60_000);
    await s.load();
    const before = hits;
    assert.equal(await s.fromRef(`${base}/later.png`), null);
    assert.equal(await s.fromRef(`${base}/later.png`), null);
    assert.equal(hits - before, 1, 'the miss is remembered');
    served.set('/later.png', { type: 'image/png', body: readFileSync(await image(path.join(dir, 'later.png'), 200, 200, 'red')) });
    const eager = store('four', ['127.0.0.1'], 0);
    await eager.load();
    assert.ok(await eager.fromRef(`${base}/later.png`), 'with no wait, asked again and found');
  });
});

describe('cover art on air: feed, API, page paths, AzuraCast, ICY StreamUrl, cache headers', { timeout: 120_000 }, () => {
  test("a song's own picture, its collection's, the channel's; served immutable with an ETag", async () => {
    const dir = tempDir('art-station');
    const cover = await makeCover(path.join(dir, 'embedded.png'), 640);
    await makeTone({ file: path.join(dir, 'own.mp3'), freq: 440, seconds: 3, args: ['-c:a', 'libmp3lame'], cover, title: 'Own' });
    mkdirSync(path.join(dir, 'folder'));
    await makeTone({ file: path.join(dir, 'folder', 'plain.mp3'), freq: 660, seconds: 3, args: ['-c:a', 'libmp3lame'], title: 'Plain' });
    await image(path.join(dir, 'folder-art.png'), 320, 320, 'purple');
    await image(path.join(dir, 'channel.jpg'), 500, 500, 'navy');
    writeFileSync(path.join(dir, 'none.mp3'), '');
    await makeTone({ file: path.join(dir, 'bare.mp3'), freq: 880, seconds: 3, args: ['-c:a', 'libmp3lame'], title: 'Bare' });
    writePlaylist(dir, 'art', {
      name: 'Art',
      mount: '/gallery.mp3',
      art: 'channel.jpg',
      tracks: [
        { source: 'file', path: 'own.mp3' },
        { source: 'folder', path: 'folder', art: 'folder-art.png' },
        { source: 'file', path: 'bare.mp3' },
      ],
    });
    // The station's own picture, in a folder of the operator's choosing (not a media root): for a channel with no art.
    const stationArt = await image(path.join(tempDir('station-art'), 'station.webp'), 256, 256, 'gold');
    writePlaylist(dir, 'plain', { name: 'Plain', mount: '/plain.mp3', tracks: [{ source: 'file', path: 'bare.mp3' }] });
    const station = await runStation({ PLAYLISTS_DIR: dir, STATION_ART: stationArt });
    try {
      // A channel's picture is made in the background as the channel starts; songs that go on air before it is
      // ready name the station's (said in docs/playlists.md). Measured from when it is.
      const artOf = async (id: string): Promise<string> => ((await (await fetch(`${station.url}/api/channels/${id}`)).json()) as { art: string }).art;
      await until('the channel picture', async () => {
        const [own, stations] = await Promise.all([artOf('art'), artOf('plain')]);
        return own.endsWith('.jpg') && stations.endsWith('.jpg') && own !== stations ? true : undefined;
      });
      const listener = await listen(`${station.url}/gallery.mp3`);
      const own = await listener.waitForTitle((t) => t === 'Own', 20_000);
      const plain = await listener.waitForTitle((t) => t === 'Plain', 20_000);
      const bare = await listener.waitForTitle((t) => t === 'Bare', 20_000);
      listener.close();
      const view = (await (await fetch(`${station.url}/api/channels/art`)).json()) as {
        art: string;
        nowPlaying: { title: string; art: string; coverUrl: string };
        history: { title: string; art: string; coverUrl: string }[];
      };
      const byTitle = new Map([view.nowPlaying, ...view.history].map((h) => [h.title, h]));
      const ownArt = byTitle.get('Own')!.art;
      assert.match(ownArt, /^\/art\/[0-9a-f]{24}\.jpg$/);
      assert.equal(byTitle.get('Own')!.coverUrl, `${station.url}${ownArt}`);
      assert.equal(own.url, `${station.url}${ownArt}`, 'ICY StreamUrl names the picture');
      const folderArt = byTitle.get('Plain')!.art;
      assert.match(folderArt, /^\/art\/[0-9a-f]{24}\.jpg$/);
      assert.notEqual(folderArt, ownArt);
      assert.equal(plain.url, `${station.url}${folderArt}`);
      // No picture of its own: the channel's.
      assert.equal(byTitle.get('Bare')!.art, view.art);
      assert.match(view.art, /^\/art\/[0-9a-f]{24}\.jpg$/);
      assert.equal(bare.url, `${station.url}${view.art}`);
      assert.deepEqual(jpegSize(Buffer.from(await (await fetch(`${station.url}${ownArt}`)).arrayBuffer())), { width: 600, height: 600 });
      const small = await fetch(`${station.url}${ownArt.replace('.jpg', '-96.jpg')}`);
      assert.equal(small.status, 200);
      assert.equal(small.headers.get('content-type'), 'image/jpeg');
      assert.equal(small.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.equal(small.headers.get('access-control-allow-origin'), '*');
      assert.deepEqual(jpegSize(Buffer.from(await small.arrayBuffer())), { width: 96, height: 96 });
      const etag = small.headers.get('etag')!;
      const revalidated = await fetch(`${station.url}${ownArt.replace('.jpg', '-96.jpg')}`, { headers: { 'if-none-match': etag } });
      assert.equal(revalidated.status, 304);
      for (const bad of ['/art/0123456789abcdef01234567.jpg', '/art/x.jpg', `${ownArt.replace('.jpg', '-97.jpg')}`, '/art/..%2f..%2fetc%2fpasswd']) {
        assert.equal((await fetch(`${station.url}${bad}`)).status, 404, bad);
      }
      const az = (await (await fetch(`${station.url}/api/nowplaying/art`)).json()) as { song_history: { song: { title: string; art: string } }[] };
      const azOwn = az.song_history.find((h) => h.song.title === 'Own');
      assert.equal(azOwn?.song.art, `${station.url}${ownArt}`, 'AzuraCast song.art');
      assert.equal(station.logs.find(/no cover art/).length, 0, JSON.stringify(station.logs.find(/no cover art/)));
      const other = (await (await fetch(`${station.url}/api/channels/plain`)).json()) as { art: string; nowPlaying: { art: string } };
      assert.match(other.art, /^\/art\/[0-9a-f]{24}\.jpg$/, 'STATION_ART stands for a channel with none');
      assert.equal(other.nowPlaying.art, other.art);
      assert.notEqual(other.art, view.art);
      assert.deepEqual(jpegSize(Buffer.from(await (await fetch(`${station.url}${other.art}`)).arrayBuffer())), { width: 256, height: 256 });
    } finally {
      await station.close();
    }
  });
});

describe('cover art at Icecast: StreamUrl in-band with the title', { timeout: 120_000 }, () => {
  test("an Icecast listener gets each song's title with its picture's URL, at the seam; Icecast's status shows the title", async () => {
    const dir = tempDir('art-icecast');
    const cover = await makeCover(path.join(dir, 'c.png'), 300);
    await makeTone({ file: path.join(dir, 'a.mp3'), freq: 440, seconds: 3, args: ['-c:a', 'libmp3lame'], cover, title: '封面', artist: '歌手' });
    await makeTone({ file: path.join(dir, 'b.mp3'), freq: 660, seconds: 3, args: ['-c:a', 'libmp3lame'], title: "It's Bare" });
    writePlaylist(dir, 'ice', {
      name: 'Ice',
      mount: '/ice.mp3',
      tracks: [
        { source: 'file', path: 'a.mp3' },
        { source: 'file', path: 'b.mp3' },
      ],
    });
    const ice = await startIcecast();
    const station = await runStation({ PLAYLISTS_DIR: dir, ICECAST_URL: ice.sourceUrl, PUBLIC_URL: 'https://radio.example' });
    try {
      const listener = await listen(`${ice.url}/ice.mp3`);
      const own = await listener.waitForTitle((t) => t === '歌手 - 封面', 20_000);
      const bare = await listener.waitForTitle((t) => t === 'It\u2019s Bare', 20_000);
      listener.close();
      const view = (await (await fetch(`${station.url}/api/channels/ice`)).json()) as {
        history: { title: string; coverUrl: string }[];
        nowPlaying: { title: string; coverUrl: string };
      };
      const byTitle = new Map([view.nowPlaying, ...view.history].map((h) => [h.title, h.coverUrl]));
      assert.match(own.url ?? '', /^https:\/\/radio\.example\/art\/[0-9a-f]{24}\.jpg$/);
      assert.equal(own.url, byTitle.get('封面'));
      assert.equal(bare.url, 'https://radio.example/art/default.svg', 'no picture: the station default');
      // In-band: the title block arrives within a block (4096 bytes, 0.26 s) of the song's own audio. Listeners of
      // Icecast hear it at the same byte: the offset between the two titles is the first song's length in bytes.
      const seconds = ((bare.audioOffset - own.audioOffset) * 8) / 128_000;
      assert.ok(Math.abs(seconds - 3) < 0.6, `the titles are one song apart in the stream (${seconds.toFixed(2)} s)`);
      const status = await ice.status();
      assert.ok(
        status.some((m) => m.title === 'It\u2019s Bare' || m.title === '歌手 - 封面'),
        JSON.stringify(status.map((m) => m.title)),
      );
    } finally {
      await station.close();
      await ice.stop();
    }
  });
});
