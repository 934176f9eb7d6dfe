/**
 * Webhooks from a running station to a local receiver: song changes in
 * both formats, signed, in order; the station's stop
 * sends off-air before it exits.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { createServer } from 'node:http';
import path from 'node:path';
import { describe, test } from 'node:test';
import { makeTone } from '../helpers/media.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

const SECRET = 'webhook-secret-for-the-integration-test-0123';

describe('webhooks from a running station', { timeout: 120_000 }, () => {
  test('song changes reach a JSON receiver (signed) and a Discord-format one, in order; a stop sends off-air', async () => {
    const got: { path: string; body: string; signature: string | undefined; at: number }[] = [];
    const arrived = new EventEmitter();
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString('utf8')));
      req.on('end', () => {
        got.push({ path: req.url ?? '', body, signature: req.headers['x-scast-signature'] as string | undefined, at: Date.now() });
        res.writeHead(204).end();
        arrived.emit('request');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const dir = tempDir('webhooks');
    await makeTone({ file: path.join(dir, 'a.m4a'), freq: 440, seconds: 3, args: ['-c:a', 'aac'] });
    await makeTone({ file: path.join(dir, 'b.m4a'), freq: 660, seconds: 3, args: ['-c:a', 'aac'] });
    process.env.SCAST_TEST_DISCORD_HOOK = `${base}/discord`;
    writePlaylist(dir, 'hooks', {
      name: 'Hooks FM',
      mount: '/hooks.mp3',
      tracks: [
        { source: 'file', path: 'a.m4a', title: 'Alpha', artist: 'Tester' },
        { source: 'file', path: 'b.m4a', title: 'Beta', artist: 'Tester' },
      ],
      webhooks: [
        { url: `${base}/json`, events: ['song', 'on-air', 'off-air'] },
        { urlEnv: 'SCAST_TEST_DISCORD_HOOK', format: 'discord', events: ['song'] },
      ],
    });
    const station = await runStation({ PLAYLISTS_DIR: dir, WEBHOOK_SECRET: SECRET });
    let closed = false;
    try {
      const until = async (what: () => boolean): Promise<void> => {
        while (!what()) await once(arrived, 'request');
      };
      const json = () => got.filter((g) => g.path === '/json').map((g) => JSON.parse(g.body) as { event: string; nowPlaying: { title: string } | null });
      await until(() => json().filter((j) => j.event === 'song').length >= 3 && got.filter((g) => g.path === '/discord').length >= 3);
      const songs = json().filter((j) => j.event === 'song');
      assert.deepEqual(
        songs.slice(0, 3).map((j) => j.nowPlaying!.title),
        ['Alpha', 'Beta', 'Alpha'],
        'each song change, in order',
      );
      for (const g of got.filter((x) => x.path === '/json')) {
        const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(g.signature ?? '');
        assert.ok(m && createHmac('sha256', SECRET).update(`${m[1]}.${g.body}`).digest('hex') === m[2], 'every JSON message signed');
      }
      const discord = got.filter((g) => g.path === '/discord').map((g) => JSON.parse(g.body) as { embeds: { description: string }[] });
      assert.deepEqual(
        discord.slice(0, 2).map((d) => d.embeds[0]!.description),
        ['Tester – Alpha', 'Tester – Beta'],
      );
      await station.close();
      closed = true;
      assert.ok(
        json().some((j) => j.event === 'off-air'),
        'off-air delivered before the station finished stopping',
      );
      assert.equal(json()[0]!.event, 'on-air', 'on-air first');
    } finally {
      if (!closed) await station.close();
      delete process.env.SCAST_TEST_DISCORD_HOOK;
      server.close();
    }
  });
});
