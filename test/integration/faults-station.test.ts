/**
 * Faults injected into a running station made of real parts: broken media,
 * ffmpeg killed mid-song, a full cache, a dead api-proxy or Redis, and the
 * process itself killed or asked to stop.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, watch } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { childProcesses, decoderReading } from '../helpers/children.js';
import { startIcecast } from '../helpers/icecast.js';
import { listen } from '../helpers/listener.js';
import { makeTone } from '../helpers/media.js';
import { freePort, until } from '../helpers/ports.js';
import { startProxy } from '../helpers/proxy.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';
import { childrenOf } from '../helpers/station-process.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** A local media server whose routes misbehave on purpose. */
async function mediaServer(files: Record<string, Buffer>): Promise<{ base: string; hits: Map<string, number>; close(): Promise<void> }> {
  const hits = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const name = (req.url ?? '/').slice(1);
    hits.set(name, (hits.get(name) ?? 0) + 1);
    if (name === 'truncated.m4a') {
      const body = files['good.m4a']!;
      res.writeHead(200, { 'content-type': 'audio/mp4', 'content-length': body.length });
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.destroy());
      return;
    }
    if (name === 'corrupt.m4a') {
      res.writeHead(200, { 'content-type': 'audio/mp4' });
      res.end(Buffer.alloc(50_000, 0x5a));
      return;
    }
    if (name === 'page.mp3') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<html><body>Please log in</body></html>');
      return;
    }
    if (name === 'endless.mp3') {
      res.writeHead(200, { 'content-type': 'audio/mpeg' });
      const chunk = Buffer.alloc(64 * 1024, 0xff);
      const pump = (): void => {
        while (res.write(chunk)) {
          /* keep going */
        }
        res.once('drain', pump);
      };
      pump();
      res.on('close', () => res.removeAllListeners('drain'));
      return;
    }
    const body = files[name];
    if (!body) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'audio/mp4', 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const media = tempDir('fault-media');
before(async () => {
  await makeTone({ file: path.join(media, 'good.m4a'), freq: 440, seconds: 2, args: ['-c:a', 'aac'] });
  await makeTone({ file: path.join(media, 'other.m4a'), freq: 660, seconds: 2, args: ['-c:a', 'aac'] });
  await makeTone({ file: path.join(media, 'long.m4a'), freq: 550, seconds: 6, args: ['-c:a', 'aac'] });
});

describe('faults in a running station', { timeout: 240_000 }, () => {
  test('truncated download, corrupt m4a, an HTML page and an endless response are skipped with reasons; nothing half-written stays in the cache', async () => {
    const server = await mediaServer({ 'good.m4a': readFileSync(path.join(media, 'good.m4a')) });
    const dir = tempDir('bad-media');
    const cache = tempDir('bad-cache');
    const bad = ['truncated.m4a', 'corrupt.m4a', 'page.mp3', 'endless.mp3'];
    writePlaylist(dir, 'bad', {
      name: 'Bad',
      mount: '/bad.mp3',
      tracks: [...bad.map((n) => ({ source: 'url', url: `${server.base}/${n}`, title: n })), { source: 'url', url: `${server.base}/good.m4a`, title: 'Good' }],
    });
    const station = await runStation({ PLAYLISTS_DIR: dir, CACHE_DIR: cache, MAX_DOWNLOAD_MB: '1' });
    // Every name that ever appears in the cache, however briefly.
    const appeared = new Set<string>();
    const watcher = watch(path.join(cache, 'media'), (_e, name) => {
      if (name && existsSync(path.join(cache, 'media', name))) appeared.add(name);
    });
    try {
      const listener = await listen(`${station.url}/bad.mp3`);
      await listener.waitForTitle((t) => t === 'Good', 60_000);
      listener.close();
      // A retried download (the truncated one) is slow, and Good, ready, may play before it fails.
      await until(
        'every bad song skipped',
        () => (bad.every((n) => station.logs.find(/song skipped/).some((l) => String(l.song).includes(n))) ? true : undefined),
        20_000,
      );
      const skipped = station.logs.find(/song skipped/);
      for (const n of bad)
        assert.ok(
          skipped.some((l) => String(l.song).includes(n)),
          `${n} skipped: ${JSON.stringify(skipped.map((l) => l.err))}`,
        );
      const why = (n: string) => String(skipped.find((l) => String(l.song).includes(n))!.err);
      assert.match(why('truncated.m4a'), /download: .*(truncated|terminated|other side closed)/i);
      assert.match(why('corrupt.m4a'), /probe: /);
      assert.match(why('page.mp3'), /download: .*text\/html, not audio/);
      assert.match(why('endless.mp3'), /download: .*limit/);
      assert.equal(station.station.channel('bad')!.status, 'on-air');
      assert.equal(readdirSync(path.join(cache, 'media')).length, 1, 'only the good song is cached');
      assert.equal(appeared.size, 1, `regression: the corrupt download was briefly cached (${[...appeared].join(', ')})`);
      // The playlist loops, so a bad song may be downloading again right now;
      // once the station stops, its partial file must go too.
      watcher.close();
      await station.close();
      await until('no partial download left', () => (readdirSync(path.join(cache, 'tmp')).length === 0 ? true : undefined), 5000);
    } finally {
      await station.close();
      await server.close();
    }
  });

  /** A channel playing 'Long' (6 s) then 'Other', with a listener that has heard Long's title. */
  async function longSongOnAir(id: string, env: Record<string, string> = {}) {
    const dir = tempDir(`kill-${id}`);
    writePlaylist(dir, id, {
      name: id,
      mount: `/${id}.mp3`,
      tracks: [
        { source: 'file', path: path.join(media, 'long.m4a'), title: 'Long' },
        { source: 'file', path: path.join(media, 'other.m4a'), title: 'Other' },
      ],
    });
    const station = await runStation({ PLAYLISTS_DIR: dir, MEDIA_DIRS: media, ...env });
    try {
      const listener = await listen(`${station.url}/${id}.mp3`);
      await listener.waitForTitle((t) => t === 'Long', 10_000);
      return { station, listener, channel: station.station.channel(id)! };
    } catch (err) {
      await station.close();
      throw err;
    }
  }

  test('ffmpeg killed mid-song: the channel goes on with the next song and the listener stays connected', async () => {
    const { station, listener, channel } = await longSongOnAir('k');
    try {
      const startedLong = Date.parse(channel.nowPlaying!.startedAt);
      const pid = await until('the decoder of long.m4a', () => decoderReading('long.m4a'), 5000);
      const killedAt = Date.now();
      process.kill(pid, 'SIGKILL');
      // What was already decoded plays out (about 2 s of buffers), then the next song.
      const next = await new Promise<number>((r) => channel.once('track', () => r(Date.now())));
      assert.equal(channel.nowPlaying?.title, 'Other');
      console.log(`# next song on air ${next - killedAt} ms after ffmpeg was killed`);
      assert.ok(next - killedAt < 5000, `next song ${next - killedAt} ms after the kill`);
      assert.ok(next - startedLong < 5500, 'the long song was cut short, not played to its end');
      await listener.waitForTitle((t) => t === 'Other', 10_000);
      assert.equal(listener.closed, false);
      assert.ok(station.logs.find(/decoder failed mid-song/).length >= 1);
      listener.close();
    } finally {
      await station.close();
    }
  });

  test('encoder killed mid-song: a new one is started, the stream never stops, and the song goes on', async () => {
    // The encoder as a process (the library in the station's own process has none to kill).
    const { station, listener, channel } = await longSongOnAir('e', { MP3_ENCODER: 'lame' });
    try {
      const [pid] = childProcesses('lame');
      assert.ok(pid, 'the channel encodes with lame');
      const before = listener.bytes;
      process.kill(pid, 'SIGKILL');
      await until('the encoder restarted', () => (channel.encoderRestarts === 1 && childProcesses('lame').some((p) => p !== pid) ? true : undefined), 5000);
      // Two more seconds of stream at 128 kbit/s reach the listener: stand-in silence, then the song again.
      await listener.when('the stream to go on', () => (listener.bytes - before > 2 * 16_000 ? true : undefined), 8000);
      assert.equal(listener.closed, false);
      assert.equal(channel.nowPlaying?.title, 'Long', 'the song on air when the encoder died goes on');
      const [first] = station.logs.find(/encoder failed; silence until it is back/);
      assert.equal(first?.retryInMs, 100);
      // Failing again at once backs off further.
      const [second] = childProcesses('lame');
      process.kill(second!, 'SIGKILL');
      await until('the second restart', () => (channel.encoderRestarts === 2 && childProcesses('lame').some((p) => p !== second) ? true : undefined), 5000);
      assert.deepEqual(
        station.logs.find(/encoder failed; silence until it is back/).map((l) => l.retryInMs),
        [100, 200],
      );
      await listener.waitForTitle((t) => t === 'Other', 15_000);
      listener.close();
    } finally {
      await station.close();
    }
  });

  test('every song broken: the channel stays on air with silence, logs each song once, and retries with backoff, not a hot loop', async () => {
    const dir = tempDir('allbad');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path.join(dir, 'x.m4a'), Buffer.alloc(10_000, 1));
    writeFileSync(path.join(dir, 'y.mp3'), 'not audio at all');
    writePlaylist(dir, 'allbad', {
      name: 'All bad',
      mount: '/allbad.mp3',
      tracks: [
        { source: 'file', path: 'x.m4a' },
        { source: 'file', path: 'y.mp3' },
      ],
    });
    const station = await runStation({ PLAYLISTS_DIR: dir });
    try {
      const listener = await listen(`${station.url}/allbad.mp3`);
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, 6000));
      const seconds = (Date.now() - t0) / 1000;
      const startBytes = listener.arrivals.find((a) => a.at >= t0)?.offset ?? 0;
      const rate = (listener.bytes - startBytes) / seconds;
      listener.close();
      assert.ok(rate > 15_000 && rate < 17_500, `silence keeps flowing at ${rate.toFixed(0)} B/s`);
      const warns = station.logs.find(/^song skipped$/);
      assert.equal(warns.length, 2, 'each broken song is logged once at warn');
      const skips = station.station.channel('allbad')!.songsFailed;
      // Rounds wait ~1, 2, 4 s...: a handful of attempts, where a hot loop would make hundreds.
      assert.ok(skips <= 12, `${skips} attempts in 6 s: backoff, not a hot loop`);
      assert.ok(station.logs.find(/every song of the playlist failed/).length >= 1);
    } finally {
      await station.close();
    }
  });

  test('a cache bounded below the songs it needs evicts and keeps playing', async () => {
    const big: Record<string, Buffer> = {};
    for (const [i, f] of [440, 550, 660].entries()) {
      // WAV: 2 s are 350 KB, so three do not fit in 1 MB.
      const file = await makeTone({ file: path.join(media, `big${i}.wav`), freq: f, seconds: 2, args: ['-c:a', 'pcm_s16le'] });
      big[`big${i}.m4a`] = readFileSync(file);
    }
    const server = await mediaServer(big);
    const dir = tempDir('full');
    writePlaylist(dir, 'full', {
      name: 'Full',
      mount: '/full.mp3',
      tracks: [0, 1, 2].map((i) => ({ source: 'url', url: `${server.base}/big${i}.m4a`, title: `Big ${i}` })),
    });
    const station = await runStation({ PLAYLISTS_DIR: dir, CACHE_MAX_MB: '1' });
    try {
      const listener = await listen(`${station.url}/full.mp3`);
      for (const i of [0, 1, 2]) await listener.waitForTitle((t) => t === `Big ${i}`, 30_000);
      await listener.when('a second round', () => (listener.titles.filter((x) => x.title === 'Big 0').length >= 2 ? true : undefined), 30_000);
      listener.close();
      assert.ok(station.logs.find(/evicted from media cache/).length >= 1);
      assert.equal(station.station.channel('full')!.songsFailed, 0);
    } finally {
      await station.close();
      await server.close();
    }
  });

  test('api-proxy down and Redis down: qq songs are skipped with the reason, local songs keep playing', async () => {
    const dir = tempDir('noproxy');
    const closedPort = await freePort();
    writePlaylist(dir, 'np', {
      name: 'NP',
      mount: '/np.mp3',
      tracks: [
        { source: 'qq', id: '0039MnYb0qxYhV' },
        { source: 'file', path: path.join(media, 'good.m4a'), title: 'Local' },
      ],
    });
    const station = await runStation({
      PLAYLISTS_DIR: dir,
      MEDIA_DIRS: media,
      API_PROXY_URL: `http://127.0.0.1:${closedPort}`,
      API_PROXY_TOKEN: 'x'.repeat(20),
      REDIS_URL: `redis://127.0.0.1:${closedPort}`,
    });
    try {
      const listener = await listen(`${station.url}/np.mp3`);
      await listener.waitForTitle((t) => t === 'Local', 20_000);
      listener.close();
      // Its resolution waits out Redis's start-up grace (3 s) first: the local song, ready, is not held back by it.
      const skipped = await until(
        'the qq song skipped',
        () => station.logs.find(/song skipped/).find((l) => String(l.song).includes('0039MnYb0qxYhV')),
        10_000,
      );
      assert.match(String(skipped.err), /resolve: api-proxy: unreachable/);
    } finally {
      await station.close();
    }
    // A proxy that never answers, and one that answers garbage.
    const http2 = await import('node:http');
    const hanging = http2.createServer(() => undefined);
    const garbage = http2.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('<html>surprise</html>');
    });
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', r));
    for (const [server, reason] of [
      [hanging, /api-proxy: no answer within 1000 ms/],
      [garbage, /api-proxy: answered 200 with non-JSON/],
    ] as const) {
      const d = tempDir('badproxy');
      writePlaylist(d, 'bp', {
        name: 'BP',
        mount: '/bp.mp3',
        tracks: [
          { source: 'qq', id: '0039MnYb0qxYhV' },
          { source: 'file', path: path.join(media, 'good.m4a'), title: 'Local' },
        ],
      });
      const s2 = await runStation({
        PLAYLISTS_DIR: d,
        MEDIA_DIRS: media,
        API_PROXY_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        API_PROXY_TOKEN: 'x'.repeat(20),
        API_PROXY_TIMEOUT_MS: '1000',
      });
      try {
        const l = await listen(`${s2.url}/bp.mp3`);
        await l.waitForTitle((t) => t === 'Local', 20_000);
        await s2.logs.when('qq song skipped', () => s2.logs.find(/song skipped/).find((x) => reason.test(String(x.err))), 10_000);
        l.close();
      } finally {
        await s2.close();
      }
    }
    hanging.closeAllConnections();
    hanging.close();
    garbage.close();
    // And the proxy itself with Redis down from the start.
    const proxy = await startProxy({
      REDIS_URL: `redis://127.0.0.1:${closedPort}`,
      QQ_API_BASE: 'http://127.0.0.1:9',
      QQ_C_BASE: 'http://127.0.0.1:9',
      UPSTREAM_TIMEOUT_MS: '500',
    });
    try {
      const health = (await (await fetch(`${proxy.url}/health`)).json()) as { status: string; redis: string };
      assert.deepEqual([health.status, health.redis], ['degraded', 'down']);
      const res = await fetch(`${proxy.url}/v1/qq/songs/0039MnYb0qxYhV`, { headers: { authorization: `Bearer ${proxy.token}` } });
      assert.equal(res.status, 502, 'answers (with the upstream failure), not stuck on Redis');
    } finally {
      await proxy.close();
    }
  });
});

describe('the streamer process killed or stopped', { timeout: 120_000 }, () => {
  function startProcess(env: Record<string, string>, opts: { group?: boolean } = {}) {
    const child = spawn(process.execPath, ['dist/src/main.js'], {
      cwd: ROOT,
      detached: opts.group ?? false,
      env: { ...process.env, LOG_LEVEL: 'info', HTTP_HOST: '127.0.0.1', MEDIA_ALLOW_HOSTS: '127.0.0.1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    return { child, out: () => out };
  }

  test('SIGKILL then restart: the cache is intact (no new download) and the station is back on air', async () => {
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
    const server = await mediaServer({ 'song.m4a': readFileSync(path.join(media, 'good.m4a')) });
    const dir = tempDir('sigkill');
    const cache = tempDir('sigkill-cache');
    writePlaylist(dir, 's', { name: 'S', mount: '/s.mp3', tracks: [{ source: 'url', url: `${server.base}/song.m4a`, title: 'Cached' }] });
    const port = await freePort();
    const env = { PLAYLISTS_DIR: dir, CACHE_DIR: cache, HTTP_PORT: String(port) };
    try {
      const first = startProcess(env);
      await until('first play', () => (first.out().includes('"now playing"') ? true : undefined), 20_000);
      assert.equal(server.hits.get('song.m4a'), 1);
      first.child.kill('SIGKILL');
      await new Promise((r) => first.child.once('exit', r));
      const second = startProcess(env);
      try {
        await until('back on air', () => (second.out().includes('"now playing"') ? true : undefined), 20_000);
        const listener = await listen(`http://127.0.0.1:${port}/s.mp3`);
        await listener.waitForTitle((t) => t === 'Cached', 10_000);
        listener.close();
        assert.equal(server.hits.get('song.m4a'), 1, 'served from the cache kept across the kill');
        assert.deepEqual(readdirSync(path.join(cache, 'tmp')), []);
      } finally {
        second.child.kill('SIGKILL');
      }
    } finally {
      await server.close();
    }
  });

  // A terminal's Ctrl-C reaches the whole foreground process group, children included;
  // so does a `kill -TERM -PGID`. The station is started as its own group's leader, as a shell would.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    test(`${signal} to the process group drains like SIGTERM: no error lines, Icecast sees the source leave, exit 0 within a second, no child left`, async () => {
      const ice = await startIcecast();
      const dir = tempDir('stop-signal');
      writePlaylist(dir, 't', { name: 'T', mount: '/t.mp3', tracks: [{ source: 'file', path: path.join(media, 'good.m4a') }] });
      const p = startProcess(
        // The encoder as a process, so a child is there to outlive the station if it could.
        { PLAYLISTS_DIR: dir, MEDIA_DIRS: media, CACHE_DIR: tempDir('stop-cache'), HTTP_PORT: '0', ICECAST_URL: ice.sourceUrl, MP3_ENCODER: 'lame' },
        { group: true },
      );
      try {
        await until('on Icecast', async () => ((await ice.status()).some((m) => m.listenurl.endsWith('/t.mp3')) ? true : undefined), 20_000);
        await until('a song on air', () => (p.out().includes('"now playing"') ? true : undefined), 10_000);
        const children = childrenOf(p.child.pid!);
        assert.ok(children.length >= 1, 'the encoder runs');
        const t0 = Date.now();
        const exited = new Promise<number | null>((r) => p.child.once('exit', (code) => r(code)));
        process.kill(-p.child.pid!, signal);
        const code = await exited;
        const ms = Date.now() - t0;
        console.log(`# ${signal} to the group, to exit: ${ms} ms`);
        assert.equal(code, 0);
        assert.ok(ms < 1000, `${ms} ms`);
        const errors = p
          .out()
          .split('\n')
          .filter((l) => /"level":(50|60)/.test(l));
        assert.deepEqual(errors, [], 'no error-level lines');
        await until('Icecast dropped the source', async () => ((await ice.status()).some((m) => m.listenurl.endsWith('/t.mp3')) ? undefined : true), 3000);
        assert.match(p.out(), /stopping: ending Icecast connections cleanly/);
        await until('children gone', () => (children.every((pid) => !alive(pid)) ? true : undefined), 3000);
      } finally {
        p.child.kill('SIGKILL');
        await ice.stop();
      }
    });
  }
});

function alive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').slice(-0).split(') ')[1]?.[0];
    return state !== undefined && state !== 'Z';
  } catch {
    return false;
  }
}

describe('invalid environment', { timeout: 30_000 }, () => {
  test('the streamer refuses to start, naming every invalid variable, and exits 2', async () => {
    const { execFile } = await import('node:child_process');
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'src/main.ts'],
        { cwd: ROOT, env: { PATH: process.env.PATH!, HTTP_PORT: 'abc', LOG_LEVEL: 'chatty', ICECAST_URL: 'http://source@h:1', API_PROXY_URL: 'http://p:1' } },
        (err, _out, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr }),
      );
    });
    assert.equal(result.code, 2);
    for (const name of ['HTTP_PORT', 'LOG_LEVEL', 'ICECAST_URL']) assert.match(result.stderr, new RegExp(`- ${name}: `));
  });
});
