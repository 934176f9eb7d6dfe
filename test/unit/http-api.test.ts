/**
 * The streamer's HTTP API through fastify's inject(): routes, error shapes
 * and the control token, with a real Station and OutputSet over fake
 * channels on a fake clock (no sockets, no ffmpeg, no real time).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { buildApp } from '../../src/api/app.js';
import { azNowPlayingSchema, azStationSchema } from '../../src/api/azuracast-schema.js';
import { stationNumber } from '../../src/api/azuracast.js';
import { exponentialBackoff } from '../../src/kernel/retry.js';
import { OutputSet } from '../../src/outputs/output-set.js';
import { Station } from '../../src/playout/station.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { fakeChannel } from '../helpers/fake-channel.js';
import { fakeSong } from '../helpers/fake-songs.js';
import { tempDir } from '../helpers/station.js';

const TOKEN = 'a-control-token-for-tests';
const logger = pino({ level: process.env.DEBUG_LOG ?? 'silent' });
const auth = { authorization: `Bearer ${TOKEN}` };

describe('the HTTP API through inject()', () => {
  const clock = new FakeClock();
  const dir = tempDir('http-api');
  let station: Station;
  let outputs: OutputSet;
  let app: ReturnType<typeof buildApp>;
  let noControl: ReturnType<typeof buildApp>;
  let withIcecast: ReturnType<typeof buildApp>;

  before(async () => {
    writeFileSync(path.join(dir, 'news.json'), JSON.stringify({ name: 'News', mount: '/news.mp3', tracks: [] }));
    writeFileSync(path.join(dir, 'jazz.json'), JSON.stringify({ name: 'Jazz 爵士', mount: '/jazz.mp3', genre: 'Jazz', tracks: [] }));
    station = new Station({
      dir,
      mediaDirs: [],
      logger,
      timers: clock,
      createChannel: (loaded) => {
        const song = fakeSong(600 * 44100, 1000, { seconds: 600 });
        song.info.durationMs = 600_000;
        return fakeChannel(clock, [song], loaded.playlist, loaded.id).channel;
      },
    });
    outputs = new OutputSet(station, {
      icecast: [],
      method: 'PUT',
      retry: exponentialBackoff({ baseMs: 100, capMs: 1000 }),
      builtin: true,
      logger,
      userAgent: 'sCast/test',
    });
    await station.start();
    clock.advance(500);
    const deps = { station, outputs, logger, publicUrl: () => 'http://radio.example', icecastUrls: [] };
    app = buildApp({ ...deps, controlToken: TOKEN });
    noControl = buildApp(deps);
    withIcecast = buildApp({ ...deps, icecastUrls: ['http://127.0.0.1:8000'] });
    await Promise.all([app.ready(), noControl.ready(), withIcecast.ready()]);
  });

  after(async () => {
    await Promise.all([app.close(), noControl.close(), withIcecast.close()]);
    await outputs.close();
    await station.close();
  });

  test('GET /api/channels lists every channel with its listen links; one channel in detail; unknown and malformed ids', async () => {
    const list = await app.inject({ method: 'GET', url: '/api/channels', headers: { host: 'radio.example:8080' } });
    assert.equal(list.statusCode, 200);
    const channels = list.json<{ channels: { id: string; name: string; listenUrl?: string }[] }>().channels;
    assert.deepEqual(channels.map((c) => c.id).sort(), ['jazz', 'news']);
    assert.equal(channels.find((c) => c.id === 'jazz')!.name, 'Jazz 爵士');
    assert.match(JSON.stringify(channels), /"builtin":"http:\/\/radio\.example:8080\/news\.mp3"/, 'listen links on the host the request came in on');
    const one = await app.inject({ method: 'GET', url: '/api/channels/news' });
    assert.equal(one.statusCode, 200);
    assert.ok(Array.isArray(one.json<{ history: unknown[] }>().history));
    const missing = await app.inject({ method: 'GET', url: '/api/channels/nope' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json<{ error: { code: string } }>().error.code, 'SCAST_NOT_FOUND');
    const bad = await app.inject({ method: 'GET', url: '/api/channels/-bad' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /params\.id/);
  });

  test('control needs the bearer token: none or a wrong one is 401, no token configured is 403; with it, skip answers 202', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong-token-wrong-token' }, { authorization: TOKEN }]) {
      const r = await app.inject({ method: 'POST', url: '/api/channels/news/skip', headers });
      assert.equal(r.statusCode, 401, JSON.stringify(headers));
      assert.equal(r.json<{ error: { code: string } }>().error.code, 'SCAST_UNAUTHORIZED');
    }
    const disabled = await noControl.inject({ method: 'POST', url: '/api/channels/news/skip', headers: auth });
    assert.equal(disabled.statusCode, 403);
    assert.match(disabled.body, /CONTROL_TOKEN/);
    const ok = await app.inject({ method: 'POST', url: '/api/channels/news/skip', headers: auth });
    assert.equal(ok.statusCode, 202);
    assert.ok('skipped' in ok.json<object>());
    const unknown = await app.inject({ method: 'POST', url: '/api/channels/nope/skip', headers: auth });
    assert.equal(unknown.statusCode, 404);
  });

  test('queue: a bad track is 400 naming the field; a file outside the folder is refused; a good one is queued', async () => {
    const bad = await app.inject({ method: 'POST', url: '/api/channels/news/queue', headers: auth, payload: { source: 'ftp', path: 'x' } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /body\.source/);
    const outside = await app.inject({ method: 'POST', url: '/api/channels/news/queue', headers: auth, payload: { source: 'file', path: '../../etc/passwd' } });
    assert.equal(outside.statusCode, 400);
    assert.match(outside.body, /outside the playlists folder/);
    const notJson = await app.inject({
      method: 'POST',
      url: '/api/channels/news/queue',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"source":',
    });
    assert.equal(notJson.statusCode, 400);
    assert.equal(notJson.json<{ error: { code: string } }>().error.code, 'SCAST_BAD_REQUEST');
    const good = await app.inject({
      method: 'POST',
      url: '/api/channels/news/queue',
      headers: auth,
      payload: { source: 'url', url: 'https://example.org/a.mp3', title: 'A' },
    });
    assert.equal(good.statusCode, 202);
    assert.deepEqual(good.json<{ queued: unknown }>().queued, { source: 'url', title: 'A' });
  });

  test('reload reads the folder again; health, metrics, unknown routes and the page', async () => {
    writeFileSync(path.join(dir, 'talk.json'), JSON.stringify({ name: 'Talk', mount: '/talk.mp3', tracks: [] }));
    const reload = await app.inject({ method: 'POST', url: '/api/reload', headers: auth });
    assert.equal(reload.statusCode, 200);
    assert.deepEqual(reload.json<{ channels: string[] }>().channels.sort(), ['jazz', 'news', 'talk']);
    const health = await app.inject({ method: 'GET', url: '/health' });
    const body = health.json<{ status: string; channels: { id: string; onAir: boolean }[] }>();
    assert.equal(health.statusCode, body.status === 'ok' ? 200 : 503);
    assert.ok(body.channels.every((c) => c.onAir));
    assert.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404, 'no metrics configured');
    const nowhere = await app.inject({ method: 'GET', url: '/api/nowhere' });
    assert.equal(nowhere.statusCode, 404);
    assert.equal(nowhere.json<{ error: { code: string } }>().error.code, 'SCAST_NOT_FOUND');
    const page = await app.inject({ method: 'GET', url: '/' });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /text\/html/);
  });

  test("AzuraCast's now-playing API: its shape, by shortcode and numeric id, any origin, unknown stations 404", async () => {
    const all = await app.inject({ method: 'GET', url: '/api/nowplaying', headers: { host: 'radio.example:8080', origin: 'https://widget.example' } });
    assert.equal(all.statusCode, 200);
    assert.equal(all.headers['access-control-allow-origin'], '*', 'widgets on other sites may read it');
    const list = all.json<unknown[]>().map((x) => azNowPlayingSchema.parse(x));
    const jazz = list.find((n) => n.station.shortcode === 'jazz');
    assert.ok(jazz, 'every channel is a station');
    assert.equal(jazz.station.name, 'Jazz 爵士');
    assert.equal(jazz.station.listen_url, 'http://radio.example:8080/jazz.mp3');
    assert.equal(jazz.station.playlist_m3u_url, 'http://radio.example:8080/jazz.mp3.m3u');
    assert.equal(jazz.station.playlist_pls_url, 'http://radio.example:8080/jazz.mp3.pls');
    assert.equal(jazz.station.public_player_url, 'http://radio.example:8080/jazz');
    assert.deepEqual(
      jazz.station.mounts.map((m) => [m.path, m.format, m.bitrate, m.is_default]),
      [['/jazz.mp3', 'mp3', 128, true]],
    );
    assert.equal(jazz.is_online, true);
    const np = jazz.now_playing;
    assert.ok(np, 'a song is on air');
    assert.equal(np.duration, 600);
    assert.equal(np.elapsed + np.remaining, 600);
    assert.equal(np.song.text, np.song.title, 'no artist: the text is the title');
    assert.match(np.song.id, /^[0-9a-f]{32}$/);
    assert.equal(np.song.art, 'http://radio.example:8080/art/default.svg', 'no art: the station default, on the host asked');
    assert.equal(jazz.live.is_live, false);
    assert.equal(jazz.listeners.total, 0);
    const byNumber = await app.inject({ method: 'GET', url: `/api/nowplaying/${stationNumber('jazz')}` });
    assert.equal(azNowPlayingSchema.parse(byNumber.json()).station.shortcode, 'jazz', 'AzuraCast clients may use the numeric id');
    assert.equal(jazz.station.id, stationNumber('jazz'));
    const fromStatic = await app.inject({ method: 'GET', url: '/api/nowplaying_static/jazz.json' });
    assert.equal(azNowPlayingSchema.parse(fromStatic.json()).station.shortcode, 'jazz', "AzuraCast's static copy, which widgets poll");
    const artOf = await app.inject({ method: 'GET', url: '/api/nowplaying/jazz/art', headers: { host: 'radio.example' } });
    assert.equal(artOf.statusCode, 302);
    assert.equal(artOf.headers.location, 'http://radio.example/art/default.svg');
    const one = await app.inject({ method: 'GET', url: '/api/station/jazz' });
    assert.equal(azStationSchema.parse(one.json()).shortcode, 'jazz');
    const stations = await app.inject({ method: 'GET', url: '/api/stations' });
    assert.deepEqual(
      stations.json<{ shortcode: string }[]>().map((s) => s.shortcode),
      station.channels.map((c) => c.id),
    );
    for (const url of ['/api/nowplaying/nope', '/api/nowplaying/12345', '/api/station/nope']) {
      const r = await app.inject({ method: 'GET', url });
      assert.equal(r.statusCode, 404, url);
      assert.equal(r.json<{ error: { code: string } }>().error.code, 'SCAST_NOT_FOUND');
    }
    const long = await app.inject({ method: 'GET', url: `/api/nowplaying/${'x'.repeat(70)}` });
    assert.equal(long.statusCode, 400);
    // With Icecast configured, its mount comes first and is the default listen URL.
    const ice = azNowPlayingSchema.parse((await withIcecast.inject({ method: 'GET', url: '/api/nowplaying/jazz', headers: { host: 'radio.example' } })).json());
    assert.deepEqual(
      ice.station.mounts.map((m) => [m.url, m.is_default]),
      [
        ['http://radio.example:8000/jazz.mp3', true],
        ['http://radio.example/jazz.mp3', false],
      ],
    );
    assert.equal(ice.station.listen_url, 'http://radio.example:8000/jazz.mp3', 'a loopback Icecast is shown on the host the client asked');
  });

  test('listen files next to each mount: m3u, pls and xspf name every way to listen; names are escaped; others 404', async () => {
    const m3u = await withIcecast.inject({ method: 'GET', url: '/jazz.mp3.m3u', headers: { host: 'radio.example:8080' } });
    assert.equal(m3u.statusCode, 200);
    assert.match(String(m3u.headers['content-type']), /^audio\/x-mpegurl/);
    assert.equal(m3u.body, '#EXTM3U\n#EXTINF:-1,Jazz 爵士\nhttp://radio.example:8000/jazz.mp3\n#EXTINF:-1,Jazz 爵士\nhttp://radio.example:8080/jazz.mp3\n');
    const pls = await withIcecast.inject({ method: 'GET', url: '/jazz.mp3.pls', headers: { host: 'radio.example:8080' } });
    assert.match(String(pls.headers['content-type']), /^audio\/x-scpls/);
    assert.match(
      pls.body,
      /^\[playlist\]\nFile1=http:\/\/radio\.example:8000\/jazz\.mp3\nTitle1=Jazz 爵士\nLength1=-1\nFile2=http:\/\/radio\.example:8080\/jazz\.mp3\n/,
    );
    assert.match(pls.body, /NumberOfEntries=2\nVersion=2\n$/);
    writeFileSync(path.join(dir, 'odd.json'), JSON.stringify({ name: 'Rock & <Roll> "live"', mount: '/odd.mp3', tracks: [] }));
    await station.rescan();
    const xspf = await app.inject({ method: 'GET', url: '/odd.mp3.xspf', headers: { host: 'radio.example' } });
    assert.match(String(xspf.headers['content-type']), /^application\/xspf\+xml/);
    assert.match(xspf.body, /<title>Rock &amp; &lt;Roll&gt; &quot;live&quot;<\/title>/, 'markup escaped');
    assert.match(xspf.body, /<location>http:\/\/radio\.example\/odd\.mp3<\/location>/);
    for (const url of ['/nope.mp3.m3u', '/jazz.mp3.exe', '/.m3u']) {
      assert.equal((await app.inject({ method: 'GET', url })).statusCode, 404, url);
    }
  });
});
