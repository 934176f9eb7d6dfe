/**
 * Listener requests on AzuraCast's routes, through inject(): the list and
 * its search, each limit's refusal with its reason, requests reaching the
 * channel's queue, hostile ids and queries. A fake channel on a fake clock.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import Fastify from 'fastify';
import { playlistSchema, type Track } from '../../src/config/playlist.js';
import { nowPlayingRoutes } from '../../src/api/nowplaying-routes.js';
import { ListenerRequests } from '../../src/api/requests.js';
import type { Channel } from '../../src/playout/channel.js';
import type { Station } from '../../src/playout/station.js';

const songs: Track[] = [
  { source: 'file', path: 'a.mp3', title: 'Blue in Green', artist: 'Miles Davis', album: 'Kind of Blue' },
  { source: 'file', path: 'b.mp3', title: 'So What', artist: 'Miles Davis' },
  { source: 'file', path: 'c.mp3', title: '月亮代表我的心', artist: '邓丽君' },
  { source: 'file', path: 'music/d <script>.mp3' },
  { source: 'qq', id: '0039MnYb0qxYhV', title: 'Take Five', artist: 'Dave Brubeck' },
];

function rig(requests: unknown) {
  const clock = { t: Date.parse('2026-12-06T10:00:00Z') };
  const queued: { track: Track; listener: boolean }[] = [];
  const channel = Object.assign(new EventEmitter(), {
    id: 'jazz',
    status: 'on-air',
    nowPlaying: null,
    playlist: playlistSchema.parse({ name: 'Jazz', mount: '/jazz.mp3', tracks: [], requests }),
    catalog: () => songs,
    enqueue: (track: Track, listener: boolean) => queued.push({ track, listener }),
  }) as unknown as Channel & EventEmitter;
  const station = Object.assign(new EventEmitter(), { channels: [channel] }) as unknown as Station;
  const app = Fastify();
  const reqs = new ListenerRequests(station, () => clock.t);
  nowPlayingRoutes(app, station, () => ({ outputsOf: () => undefined, publicUrl: () => 'http://radio.example', icecastUrls: [] }), reqs);
  const list = async (query = '') => app.inject({ method: 'GET', url: `/api/station/jazz/requests${query}` });
  const ask = async (id: string, remoteAddress = '203.0.113.7') => app.inject({ method: 'POST', url: `/api/station/jazz/request/${id}`, remoteAddress });
  return { app, channel, clock, queued, list, ask };
}

type Listed = { request_id: string; request_url: string; song: { title: string; artist: string | null; text: string } }[];

describe('listener requests', () => {
  test('off by default: the list and asking both refuse with a reason', async () => {
    const { list, ask } = rig(undefined);
    const l = await list();
    assert.equal(l.statusCode, 403);
    assert.deepEqual([l.json<{ success: boolean }>().success, l.json<{ type: string }>().type], [false, 'SCAST_REQUESTS_OFF']);
    assert.match(l.json<{ message: string }>().message, /does not take requests/);
    assert.equal((await ask('0'.repeat(24))).statusCode, 403);
  });

  test('the list in AzuraCast shape, searchable, paged; ids that do not reveal where songs live', async () => {
    const { list } = rig(true);
    const all = await list();
    assert.equal(all.statusCode, 200);
    const songsListed = all.json<Listed>();
    assert.equal(songsListed.length, 5);
    assert.equal(all.headers['x-total-count'], '5');
    for (const s of songsListed) {
      assert.match(s.request_id, /^[0-9a-f]{24}$/);
      assert.equal(s.request_url, `http://radio.example/api/station/jazz/request/${s.request_id}`);
    }
    assert.doesNotMatch(all.body, /a\.mp3|0039MnYb0qxYhV|music\//, 'no paths or QQ ids');
    assert.deepEqual(
      songsListed.map((s) => s.song.text),
      ['Miles Davis - Blue in Green', 'Miles Davis - So What', '邓丽君 - 月亮代表我的心', 'd <script>', 'Dave Brubeck - Take Five'],
      'a song without a title is named by its file name, as the feed names it',
    );
    assert.deepEqual(
      (await list('?searchPhrase=miles')).json<Listed>().map((s) => s.song.title),
      ['Blue in Green', 'So What'],
    );
    assert.deepEqual(
      (await list('?searchPhrase=KIND')).json<Listed>().map((s) => s.song.title),
      ['Blue in Green'],
      'album too, any case',
    );
    assert.deepEqual(
      (await list(`?searchPhrase=${encodeURIComponent('月亮')}`)).json<Listed>().map((s) => s.song.artist),
      ['邓丽君'],
    );
    assert.deepEqual(
      (await list('?per_page=2&page=2')).json<Listed>().map((s) => s.song.title),
      ['月亮代表我的心', 'd <script>'],
    );
    for (const q of ['?per_page=0', '?page=abc', `?searchPhrase=${'x'.repeat(300)}`]) assert.equal((await list(q)).statusCode, 400, q);
    assert.equal((await list()).headers['access-control-allow-origin'], undefined, 'CORS is the app hook’s job, not this route’s');
  });

  test('asking queues the song as a listener request; each limit refuses with its reason; ids from nowhere are 404', async () => {
    const { list, ask, queued, clock, channel } = rig({ perAddressPerHour: 2, maxPending: 2, songMinutes: 30, artistMinutes: 10 });
    const ids = new Map((await list()).json<Listed>().map((s) => [s.song.title, s.request_id]));
    const ok = await ask(ids.get('Blue in Green')!);
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.json<{ success: boolean }>().success, true);
    assert.match(ok.json<{ message: string }>().message, /"Blue in Green" has been submitted/);
    assert.deepEqual(
      queued.map((q) => [q.track.title, q.listener]),
      [['Blue in Green', true]],
    );

    const again = await ask(ids.get('Blue in Green')!, '198.51.100.1');
    assert.equal(again.statusCode, 409, 'already waiting');
    const artist = await ask(ids.get('So What')!, '198.51.100.1');
    assert.equal(artist.statusCode, 403);
    assert.equal(artist.json<{ type: string }>().type, 'SCAST_REQUEST_ARTIST_RECENT');
    assert.match(artist.json<{ message: string }>().message, /Miles Davis played or was asked for 0 min ago; .* after 10 min/);

    assert.equal((await ask(ids.get('月亮代表我的心')!)).statusCode, 200, 'the second from this address');
    const full = await ask(ids.get('Take Five')!, '198.51.100.2');
    assert.equal(full.statusCode, 429);
    assert.equal(full.json<{ type: string }>().type, 'SCAST_REQUEST_QUEUE_FULL');
    // The first request goes on air: one place frees up.
    channel.emit('track', { key: 'file:a.mp3', source: 'file', title: 'Blue in Green', artist: 'Miles Davis', startedAt: new Date(clock.t).toISOString() });
    const third = await ask(ids.get('Take Five')!);
    assert.equal(third.statusCode, 429, 'this address has asked twice this hour');
    assert.equal(third.json<{ type: string }>().type, 'SCAST_REQUEST_RATE');
    assert.equal(third.headers['retry-after'], '3600');
    assert.equal((await ask(ids.get('Take Five')!, '198.51.100.2')).statusCode, 200, 'another address may');

    clock.t += 3_600_000;
    channel.emit('track', { key: 'file:c.mp3', source: 'file', title: '月亮代表我的心', startedAt: new Date(clock.t).toISOString() });
    channel.emit('track', { key: 'qq:0039MnYb0qxYhV', source: 'qq', title: 'Take Five', startedAt: new Date(clock.t).toISOString() });
    const recent = await ask(ids.get('Take Five')!);
    assert.equal(recent.statusCode, 403);
    assert.match(recent.json<{ message: string }>().message, /"Take Five" played or was asked for 0 min ago; it may be asked for again after 30 min/);
    clock.t += 31 * 60_000;
    assert.equal((await ask(ids.get('Take Five')!)).statusCode, 200, 'after the song cooldown, and an hour after this address asked');

    for (const id of ['f'.repeat(24), 'nope', '../../etc/passwd', '%00', 'A'.repeat(24)]) {
      const r = await ask(encodeURIComponent(id));
      assert.equal(r.statusCode, 404, id);
      assert.equal(r.json<{ success: boolean }>().success, false);
    }
    assert.equal((await ask('x'.repeat(65))).statusCode, 400, 'over-long id');
  });
});
