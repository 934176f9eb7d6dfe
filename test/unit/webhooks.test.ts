/**
 * Webhooks against a real local HTTP receiver: both formats, the signature,
 * retries in order, Discord's 429, refusals, the address rule, urlEnv.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { AddressPolicy } from '../../src/config/address-policy.js';
import { playlistSchema } from '../../src/config/playlist.js';
import type { Channel } from '../../src/playout/channel.js';
import type { Station } from '../../src/playout/station.js';
import { ArtLinks } from '../../src/outputs/art-links.js';
import { Webhooks } from '../../src/outputs/webhooks.js';

const SECRET = 'a-webhook-secret-of-32-characters-or-more';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A receiver answering each request with the next planned status (200 when none is left). */
class Receiver {
  readonly got: Received[] = [];
  plan: { status: number; body?: string }[] = [];
  private readonly events = new EventEmitter();
  server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString('utf8')));
      req.on('end', () => {
        this.got.push({ path: req.url ?? '', headers: req.headers, body });
        const next = this.plan.shift() ?? { status: 200 };
        res.writeHead(next.status, { 'content-type': 'application/json' }).end(next.body ?? '');
        this.events.emit('request');
      });
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  /** Resolves once `n` requests have arrived in all. */
  async count(n: number): Promise<Received[]> {
    while (this.got.length < n) await once(this.events, 'request');
    return this.got;
  }
}

function channel(id: string, webhooks: unknown[]): Channel & EventEmitter {
  const c = Object.assign(new EventEmitter(), {
    id,
    status: 'on-air',
    nowPlaying: null,
    playlist: playlistSchema.parse({ name: `Radio ${id}`, mount: `/${id}.mp3`, tracks: [], webhooks }),
  });
  return c as unknown as Channel & EventEmitter;
}

function station(channels: Channel[]): Station {
  return Object.assign(new EventEmitter(), { channels }) as unknown as Station;
}

const song = (title: string, artist?: string) => ({
  key: title,
  source: 'file',
  title,
  artist,
  startedAt: new Date().toISOString(),
  artId: '0123456789abcdef01234567',
});

describe('webhooks to a local receiver', () => {
  const rx = new Receiver();
  const allow = new AddressPolicy(['127.0.0.1']);
  const logger = pino({ level: 'silent' });
  before(() => rx.start());
  after(() => rx.server.close());

  test('json: signed with the secret and a timestamp; discord: one embed, markdown and mentions neutralised', async () => {
    const c = channel('jazz', [
      { url: `${rx.url}/json`, events: ['song'] },
      { url: `${rx.url}/discord`, format: 'discord', events: ['song'] },
    ]);
    const hooks = new Webhooks(station([c]), {
      policy: allow,
      secret: SECRET,
      publicUrl: () => 'https://radio.example',
      art: new ArtLinks(null),
      logger,
      retryMs: [],
    });
    const before = rx.got.length;
    c.emit('track', song('*Bold* @everyone', 'Miles'));
    const got = (await rx.count(before + 2)).slice(before);
    const json = got.find((r) => r.path === '/json')!;
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(json.headers['x-scast-signature']));
    assert.ok(m, `signature header ${json.headers['x-scast-signature']}`);
    assert.equal(m[2], createHmac('sha256', SECRET).update(`${m[1]}.${json.body}`).digest('hex'), 'HMAC of "<t>.<body>"');
    assert.ok(Math.abs(Number(m[1]) - Date.now() / 1000) < 5, 'timestamp is now');
    assert.equal(json.headers['x-scast-event'], 'song');
    const body = JSON.parse(json.body) as { event: string; channel: { id: string }; nowPlaying: { title: string; artist: string; art: string }; url: string };
    assert.deepEqual(
      [body.event, body.channel.id, body.nowPlaying.title, body.nowPlaying.artist, body.url],
      ['song', 'jazz', '*Bold* @everyone', 'Miles', 'https://radio.example/jazz'],
    );
    const discord = JSON.parse(got.find((r) => r.path === '/discord')!.body) as {
      username: string;
      allowed_mentions: unknown;
      embeds: { title: string; description: string; thumbnail: { url: string } }[];
    };
    assert.equal(discord.username, 'Radio jazz');
    assert.deepEqual(discord.allowed_mentions, { parse: [] });
    assert.equal(discord.embeds[0]!.title, 'Now playing');
    assert.equal(discord.embeds[0]!.description, 'Miles – \\*Bold\\* @\u200beveryone');
    assert.equal(body.nowPlaying.art, 'https://radio.example/art/0123456789abcdef01234567.jpg', "the song's picture on the station");
    assert.equal(discord.embeds[0]!.thumbnail.url, 'https://radio.example/art/0123456789abcdef01234567.jpg');
    await hooks.settled(2000);
    assert.deepEqual(
      hooks.stats().map((s) => [s.hook, s.delivered, s.failed]),
      [
        ['1', 1, 0],
        ['2', 1, 0],
      ],
    );
    hooks.close();
  });

  test('a failing receiver is retried and messages keep their order; a 429 waits as Discord asks; a 404 is not retried', async () => {
    const c = channel('rock', [{ url: `${rx.url}/order` }]);
    const hooks = new Webhooks(station([c]), { policy: allow, secret: SECRET, publicUrl: () => 'http://radio.example', logger, retryMs: [10, 10, 10] });
    const before = rx.got.length;
    rx.plan = [{ status: 500 }, { status: 429, body: JSON.stringify({ retry_after: 0.05 }) }];
    c.emit('track', song('First'));
    c.emit('track', song('Second'));
    const got = (await rx.count(before + 4)).slice(before);
    assert.deepEqual(
      got.map((r) => (JSON.parse(r.body) as { nowPlaying: { title: string } }).nowPlaying.title),
      ['First', 'First', 'First', 'Second'],
    );
    assert.ok(JSON.parse(got[2]!.body) && got[2]!.headers['x-scast-signature'], 'a retry is signed too');
    rx.plan = [{ status: 404 }];
    c.emit('track', song('Third'));
    await rx.count(before + 5);
    await hooks.settled(2000);
    assert.deepEqual(hooks.stats()[0], { channel: 'rock', hook: '1', delivered: 2, failed: 1, dropped: 0, retries: 2 });
    hooks.close();
  });

  test('loopback is refused unless allowed; a missing urlEnv fails with its name; events are filtered; live and on/off air', async () => {
    const before = rx.got.length;
    const c = channel('talk', [
      { url: `${rx.url}/denied` },
      { urlEnv: 'SCAST_TEST_HOOK_UNSET' },
      { urlEnv: 'SCAST_TEST_HOOK', events: ['live-start', 'off-air'] },
    ]);
    const hooks = new Webhooks(station([c]), {
      policy: new AddressPolicy([]),
      publicUrl: () => 'http://radio.example',
      logger,
      retryMs: [],
      env: { SCAST_TEST_HOOK: `${rx.url}/env` },
    });
    c.emit('track', song('Nobody hears this'));
    c.emit('live-start', { dj: 'dana', title: 'Morning Show', startedAt: new Date().toISOString(), endedAt: null, end: null });
    c.emit('status', 'closing');
    await hooks.settled(2000);
    const stats = hooks.stats();
    assert.deepEqual(
      stats.map((s) => [s.hook, s.delivered, s.failed]),
      [
        ['1', 0, 3],
        ['2', 0, 3],
        ['3', 0, 2],
      ],
      'loopback refused for all (even the env one, whose URL is loopback too)',
    );
    assert.equal(rx.got.length, before, 'nothing reached the receiver');
    hooks.close();
    // Allowed: the env hook gets only its two events, unsigned (no secret) but labelled.
    const c2 = channel('talk2', [{ urlEnv: 'SCAST_TEST_HOOK', events: ['live-start', 'off-air'] }]);
    const ok = new Webhooks(station([]), {
      policy: allow,
      publicUrl: () => 'http://radio.example',
      logger,
      retryMs: [],
      env: { SCAST_TEST_HOOK: `${rx.url}/env` },
    });
    (ok as unknown as { attach(c: Channel): void }).attach(c2);
    c2.emit('track', song('Not wanted'));
    c2.emit('live-start', { dj: 'dana', title: 'Morning Show', startedAt: new Date().toISOString(), endedAt: null, end: null });
    c2.emit('status', 'closing');
    const got = (await rx.count(before + 2)).slice(before);
    assert.deepEqual(
      got.map((r) => [r.path, r.headers['x-scast-event'], r.headers['x-scast-signature'] ?? null]),
      [
        ['/env', 'live-start', null],
        ['/env', 'off-air', null],
      ],
    );
    const live = JSON.parse(got[0]!.body) as { show: { dj: string; title: string } };
    assert.deepEqual(live.show && [live.show.dj, live.show.title], ['dana', 'Morning Show']);
    ok.close();
  });
});
