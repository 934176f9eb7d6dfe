/**
 * Attack: the station's own limits pushed from outside. Out of descriptors
 * when a decoder or encoder starts; media hosts that resolve to loopback;
 * downloads at a trickle; an upstream that answers with gigabytes; a control
 * client that queues without end. Each is refused with a reason and bounded.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { AddressPolicy } from '../../src/config/address-policy.js';
import { downloadToFile } from '../../src/acquire/fetch.js';
import { makeTone } from '../helpers/media.js';
import { until } from '../helpers/ports.js';
import { startProxy } from '../helpers/proxy.js';
import { startStandin } from '../helpers/qq-standin.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

async function server(handler: http.RequestListener): Promise<{ base: string; hits: () => number; close(): void; port: number }> {
  let hits = 0;
  const s = http.createServer((req, res) => {
    hits++;
    handler(req, res);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    hits: () => hits,
    close: () => {
      s.closeAllConnections();
      s.close();
    },
  };
}

describe('adversarial: limits', { timeout: 120_000 }, () => {
  for (const how of ['spawned by the station', 'started by the launcher'] as const)
    test(`regression: a decoder (${how}) or encoder spawned with no descriptors left reports an error instead of ending the process`, async () => {
      const dir = tempDir('emfile');
      const song = await makeTone({ file: path.join(dir, 's.m4a'), freq: 440, seconds: 1, args: ['-c:a', 'aac'] });
      // A process of its own, under `ulimit -n 64`, that uses up every descriptor first.
      const script = path.join(ROOT, 'test/helpers/spawn-without-descriptors.ts');
      const r = spawnSync(
        'sh',
        [
          '-c',
          `ulimit -n 64 && exec ${JSON.stringify(process.execPath)} --import tsx ${JSON.stringify(script)} ${JSON.stringify(song)}${how === 'started by the launcher' ? ' launcher' : ''}`,
        ],
        { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
      );
      assert.equal(r.status, 0, `the process ended badly: ${r.stderr}`);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { held: number; decoder: string | null; encoder: string };
      console.log(`# ${out.held} descriptors held; decoder: ${out.decoder}; encoder: ${out.encoder}`);
      assert.match(out.decoder ?? '', /EMFILE|spawn/);
      assert.match(out.encoder, /EMFILE|cannot start/);
    });

  test('hosts that are or resolve to loopback are refused before any connection; listed ones are fetched', async () => {
    const s = await server((_req, res) => res.writeHead(200, { 'content-type': 'audio/mpeg' }).end(Buffer.alloc(1000, 1)));
    const dir = tempDir('dns');
    try {
      const none = new AddressPolicy();
      for (const url of [
        `http://localhost:${s.port}/a`,
        `${s.base}/b`,
        `http://[::1]:${s.port}/c`,
        `http://2130706433:${s.port}/d`,
        `http://0x7f.1:${s.port}/e`,
        `http://127.1:${s.port}/f`,
      ]) {
        await assert.rejects(
          downloadToFile(url, path.join(dir, 'x'), { maxBytes: 1e6, policy: none, retry: () => null }),
          /loopback, private or special address/,
          url,
        );
      }
      assert.equal(s.hits(), 0, 'no request reached the loopback server');
      const { bytes } = await downloadToFile(`http://localhost:${s.port}/ok`, path.join(dir, 'ok'), {
        maxBytes: 1e6,
        policy: new AddressPolicy(['127.0.0.1', '::1']),
      });
      assert.equal(bytes, 1000);
    } finally {
      s.close();
    }
  });

  test('a play URL from api-proxy that points at loopback is refused like a url track, and the CDN is never asked', async () => {
    const song = await makeTone({ file: path.join(tempDir('qq-loop'), 'a.m4a'), freq: 440, seconds: 2, args: ['-c:a', 'aac'] });
    // The stand-in's CDN is on 127.0.0.1: as a hostile or compromised proxy could answer.
    const standin = await startStandin([{ mid: 'AAA000000000a1', title: 'Loopback', singer: [], interval: 2, file: song }]);
    const proxy = await startProxy({ QQ_API_BASE: standin.base, QQ_C_BASE: standin.base });
    const dir = tempDir('qq-loop-pl');
    writePlaylist(dir, 'ql', { name: 'QL', mount: '/ql.mp3', tracks: [{ source: 'qq', id: 'AAA000000000a1' }] });
    // MEDIA_ALLOW_HOSTS empty: nothing special allowed (the test helper's default allows 127.0.0.1).
    const station = await runStation({ PLAYLISTS_DIR: dir, API_PROXY_URL: proxy.url, API_PROXY_TOKEN: proxy.token, MEDIA_ALLOW_HOSTS: '' });
    try {
      const skipped = await station.logs.when('the song skipped', () => station.logs.find(/song skipped/)[0], 15_000);
      assert.match(String(skipped.err), /download: .*127\.0\.0\.1.*loopback, private or special address/);
      assert.equal(standin.cdnRequests, 0, 'the CDN address was never connected to');
    } finally {
      await station.close();
      await proxy.close();
      await standin.close();
    }
  });

  test('a trickling body is given up on by its rate, long before the idle timeout', async () => {
    const timers: NodeJS.Timeout[] = [];
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'audio/mpeg' });
      const t = setInterval(() => res.write('x'), 100);
      timers.push(t);
      res.on('close', () => clearInterval(t));
    });
    try {
      const t0 = Date.now();
      await assert.rejects(
        downloadToFile(`${s.base}/trickle`, path.join(tempDir('slow'), 'x'), {
          maxBytes: 1e6,
          policy: new AddressPolicy(['127.0.0.1']),
          minBytesPerWindow: 4096,
          slowWindowMs: 1000,
          retry: () => null,
        }),
        /too slow: \d+ bytes in 1 s/,
      );
      assert.ok(Date.now() - t0 < 3000);
    } finally {
      for (const t of timers) clearInterval(t);
      s.close();
    }
  });

  test('api-proxy reads at most UPSTREAM_MAX_BYTES of any upstream answer, however many arrive at once', async () => {
    let written = 0;
    const upstream = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(256 * 1024, 0x20);
      const pump = (): void => {
        while (written < 2e9) {
          written += chunk.length;
          if (!res.write(chunk)) break;
        }
      };
      res.on('drain', pump);
      pump();
    });
    const proxy = await startProxy({
      QQ_API_BASE: upstream.base,
      QQ_C_BASE: upstream.base,
      UPSTREAM_MAX_BYTES: String(4 * 1024 * 1024),
      UPSTREAM_TIMEOUT_MS: '20000',
    });
    try {
      const rss0 = process.memoryUsage().rss;
      const answers = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          fetch(`${proxy.url}/v1/qq/songs/000${i}abc`, { headers: { authorization: `Bearer ${proxy.token}` } }).then(async (r) => ({
            status: r.status,
            body: await r.text(),
          })),
        ),
      );
      const grew = (process.memoryUsage().rss - rss0) / 1024 / 1024;
      console.log(
        `# 16 huge answers: ${answers.map((a) => a.status).join(',')}; upstream wrote ${(written / 1024 / 1024).toFixed(0)} MB; RSS grew ${grew.toFixed(0)} MB`,
      );
      for (const a of answers) {
        assert.equal(a.status, 502);
        assert.match(a.body, /SCAST_UPSTREAM_FAILED.*over 4194304 bytes/);
      }
      assert.ok(written < 16 * 12 * 1024 * 1024, `the proxy stopped reading: upstream wrote ${written} bytes`);
      assert.ok(grew < 200, `RSS grew ${grew} MB`);
    } finally {
      await proxy.close();
      upstream.close();
    }
  });

  test('a tampered analysis file beside the cache cannot steer ffmpeg: bad lines are skipped and the song is measured again', async () => {
    const dir = tempDir('tampered');
    const song = await makeTone({ file: path.join(dir, 'a.m4a'), freq: 440, seconds: 3, args: ['-c:a', 'aac'], title: 'Honest' });
    writePlaylist(dir, 't', { name: 'T', mount: '/t.mp3', tracks: [{ source: 'file', path: 'a.m4a' }] });
    const cache = tempDir('tampered-cache');
    const st = statSync(song);
    const key = `${song}\u0000${st.size}\u0000${Math.round(st.mtimeMs)}`;
    const lines = [
      { key, a: { integratedLufs: -16, truePeakDb: -1, startSeconds: '1 -i /etc/passwd', endSeconds: null } },
      { key, a: { integratedLufs: -16, truePeakDb: -1, startSeconds: 1e12, endSeconds: null } },
      { key, a: { integratedLufs: -16, truePeakDb: -1, startSeconds: 0, endSeconds: null, extra: true } },
    ];
    writeFileSync(path.join(cache, 'analysis.jsonl'), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n{"torn":`);
    const station = await runStation({ PLAYLISTS_DIR: dir, CACHE_DIR: cache });
    try {
      const skipped = await station.logs.when('the warning', () => station.logs.find(/analysis lines that are not valid were skipped/)[0], 5000);
      assert.equal(skipped.skipped, 4);
      await station.logs.when('the song on air', () => station.logs.find(/now playing/)[0], 10_000);
      await station.logs.when('measured again', () => station.logs.find(/loudness analysed/)[0], 10_000);
    } finally {
      await station.close();
    }
  });

  test('the control queue is bounded: the 21st song is refused with 429', async () => {
    const dir = tempDir('queue');
    await makeTone({ file: path.join(dir, 'a.m4a'), freq: 440, seconds: 30, args: ['-c:a', 'aac'] });
    writePlaylist(dir, 'q', { name: 'Q', mount: '/q.mp3', tracks: [{ source: 'file', path: 'a.m4a' }] });
    const token = 'queue-token-0123456789abcdef';
    const station = await runStation({ PLAYLISTS_DIR: dir, CONTROL_TOKEN: token });
    try {
      await until('the first song on air', () => station.station.channels[0]?.nowPlaying ?? undefined, 10_000);
      const post = () =>
        fetch(`${station.url}/api/channels/q/queue`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ source: 'file', path: 'a.m4a' }),
        });
      const statuses: number[] = [];
      for (let i = 0; i < 21; i++) statuses.push((await post()).status);
      assert.deepEqual(statuses, [...Array(20).fill(202), 429]);
      const refused = (await (await post()).json()) as { error: { code: string; message: string } };
      assert.equal(refused.error.code, 'SCAST_QUEUE_FULL');
      assert.match(refused.error.message, /already holds 20 songs/);
    } finally {
      await station.close();
    }
  });
});
