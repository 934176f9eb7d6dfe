/**
 * docker-compose.yml for real: every image built from the repo's own
 * Dockerfiles (base images built as stand-ins when missing: no Docker Hub
 * here), the compose file brought up unchanged by docker-compose through
 * podman's Docker-compatible socket, and the station proved through its
 * published ports, then restarted, taken down and up, killed and stopped.
 *
 * Podman runs health checks from systemd timers; this machine has no
 * systemd, so the test runs each container's own check every 2 s, as a
 * Docker engine would. Everything else is the engine's own behaviour.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { listen, type Listener } from '../helpers/listener.js';
import { decodeAudio, decodeMp3, frequencyTrack, makeCover, makeTone } from '../helpers/media.js';
import { jpegSize } from '../helpers/jpeg.js';
import { freePort, mountServed, until } from '../helpers/ports.js';
import { ffmpegDj } from '../helpers/source-client.js';
import { rateWatch } from '../helpers/station-process.js';
import { startStandin, type Standin } from '../helpers/qq-standin.js';
import { writePlaylist } from '../helpers/station.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
// This host: hybrid cgroups (runc, not crun) and a descriptor hard limit runc must stay under.
process.env.CONTAINERS_CONF ??= path.join(ROOT, 'docker/podman/containers.conf');
const TAG = `test-${process.pid}`;
const IMAGE = `localhost/scast:${TAG}`;
const ICECAST_IMAGE = `localhost/scast-icecast:${TAG}`;
const PROJECT = `scast${process.pid}`;
const QQ_MID = '0039MnYb0qxYhV';
const DJ_PASSWORD = 'dana-compose-password';
const PLAYLIST_ID = '7039470358';

const SECRETS = {
  ICECAST_SOURCE_PASSWORD: 'src0123456789abcdef',
  ICECAST_ADMIN_PASSWORD: 'adm0123456789abcdef',
  ICECAST_RELAY_PASSWORD: 'rel0123456789abcdef',
  API_PROXY_TOKEN: 'proxy-token-0123456789abcdef',
  CONTROL_TOKEN: 'control-token-0123456789abcdef',
};

/** Why containers cannot run here, or null when they can. */
async function containersMissing(): Promise<string | null> {
  try {
    await run('podman', ['info', '--format', '{{.Host.OCIRuntime.Name}}']);
    return null;
  } catch (err) {
    return `podman cannot run containers here (${(err as Error).message.split('\n')[0]})`;
  }
}

const missing = await containersMissing();
if (missing) console.log(`\n#\n# SKIPPED: the compose test needs containers: ${missing}\n#\n`);

async function sh(cmd: string, args: string[], opts: { env?: Record<string, string>; cwd?: string; input?: string } = {}): Promise<string> {
  const child = execFile(cmd, args, { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, maxBuffer: 64 * 1024 * 1024 });
  // Never a prompt waiting on the test's own stdin.
  child.stdin!.end(opts.input ?? '');
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.slice(-3000)}`))));
  });
}

async function timed<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  const out = await fn();
  console.log(`# ${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return out;
}

describe('docker compose, for real: images built, the station up in containers', { skip: missing ?? false, timeout: 1_800_000 }, () => {
  let project: string;
  let socket: string;
  let service: ChildProcess;
  let standin: Standin;
  let ticker: NodeJS.Timeout | null = null;
  const ports: Record<string, number> = {};
  let env: Record<string, string>;

  const compose = (...args: string[]) => sh('docker-compose', ['-p', PROJECT, '--project-directory', project, ...args], { env, cwd: project });
  const containerOf = async (svc: string) => (await compose('ps', '-q', svc)).trim();

  /** Each container's own health check, every 2 s (what systemd's timers would do for podman). */
  function startHealthTicker(): void {
    const tick = async (): Promise<void> => {
      const ids = (await sh('podman', ['ps', '-q', '--filter', `label=com.docker.compose.project=${PROJECT}`]).catch(() => '')).split('\n').filter(Boolean);
      await Promise.all(ids.map((id) => run('podman', ['healthcheck', 'run', id]).catch(() => undefined)));
      if (ticker) ticker = setTimeout(() => void tick(), 2000);
    };
    ticker = setTimeout(() => void tick(), 0);
  }

  before(
    async () => {
      await timed('base images (built only when missing)', () => sh('bash', ['docker/base/build-base-images.sh', 'podman']));
      const ca = process.env.NODE_EXTRA_CA_CERTS ?? '/etc/ssl/certs/ca-certificates.crt';
      await timed('streamer/api-proxy image build', () => sh('podman', ['build', '--format', 'docker', '--secret', `id=ca,src=${ca}`, '-t', IMAGE, '.']));
      await timed('icecast image build', () => sh('podman', ['build', '--format', 'docker', '-t', ICECAST_IMAGE, '-f', 'docker/icecast.Dockerfile', '.']));
      for (const image of [IMAGE, ICECAST_IMAGE, 'docker.io/library/redis:7-bookworm']) {
        const size = Number((await sh('podman', ['image', 'inspect', '--format', '{{.Size}}', image])).trim());
        console.log(`# image ${image}: ${(size / 1e6).toFixed(0)} MB`);
      }

      project = mkdtempSync(path.join(os.tmpdir(), 'scast-compose-'));
      for (const f of ['docker-compose.yml', 'icecast.xml', 'docker/icecast-entrypoint.sh']) {
        mkdirSync(path.dirname(path.join(project, f)), { recursive: true });
        copyFileSync(path.join(ROOT, f), path.join(project, f));
      }
      const playlists = path.join(project, 'playlists');
      mkdirSync(playlists);
      await makeTone({ file: path.join(playlists, 'tone.m4a'), freq: 440, seconds: 30, args: ['-c:a', 'aac'], title: 'Compose Tone' });
      await makeCover(path.join(playlists, 'radio.png'), 400);
      writePlaylist(playlists, 'radio', {
        name: 'Radio',
        mount: '/radio.mp3',
        art: 'radio.png',
        loudness: false,
        live: { record: true },
        renditions: [
          { codec: 'aac', bitrate: 64, mount: '/radio.aac' },
          { codec: 'opus', bitrate: 64, mount: '/radio.opus' },
        ],
        tracks: [{ source: 'file', path: 'tone.m4a' }],
      });
      writePlaylist(playlists, 'qq', { name: 'QQ', mount: '/qq.mp3', loudness: false, tracks: [{ source: 'qq', id: QQ_MID }] });
      writePlaylist(playlists, 'qqlist', { name: 'QQ list', mount: '/qqlist.mp3', loudness: false, tracks: [{ source: 'qq-playlist', id: PLAYLIST_ID }] });
      const qqFile = path.join(project, 'qq-song.m4a');
      await makeTone({ file: qqFile, freq: 660, seconds: 30, args: ['-c:a', 'aac'] });
      standin = await startStandin(
        [{ mid: QQ_MID, title: '晴天', singer: [{ mid: 's', name: '周杰伦' }], interval: 30, file: qqFile }],
        { [PLAYLIST_ID]: { title: 'Mine', mids: [QQ_MID] } },
        { listen: '0.0.0.0', publicHost: 'host.containers.internal' },
      );
      standin.pictures.set('s', await makeCover(path.join(project, 'singer.jpg'), 500));

      for (const k of ['ICECAST_PORT', 'SCAST_HTTP_PORT', 'ICECAST_RELAY_PORT']) ports[k] = await freePort();
      socket = path.join(project, 'podman.sock');
      service = spawn('podman', ['system', 'service', '--time=0', `unix://${socket}`], { stdio: 'ignore' });
      await until(
        'podman socket',
        async () => ((await run('curl', ['-fsS', '--unix-socket', socket, 'http://d/_ping']).catch(() => null)) ? true : undefined),
        20_000,
        100,
      );
      env = {
        ...SECRETS,
        ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
        DOCKER_HOST: `unix://${socket}`,
        COMPOSE_HTTP_TIMEOUT: '300',
        SCAST_IMAGE: IMAGE,
        SCAST_ICECAST_IMAGE: ICECAST_IMAGE,
        SCAST_PUBLIC_URL: `http://127.0.0.1:${ports.SCAST_HTTP_PORT}`,
        QQ_API_BASE: standin.base,
        QQ_C_BASE: standin.base,
        QQ_IMAGE_BASE: standin.base,
        MEDIA_ALLOW_HOSTS: 'host.containers.internal,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16',
        LOG_LEVEL: 'info',
      };
      startHealthTicker();
      await timed('docker-compose up (to every service healthy)', () => compose('up', '-d', '--no-build'));
    },
    { timeout: 1_500_000 },
  );

  after(async () => {
    if (ticker) clearTimeout(ticker);
    ticker = null;
    if (project) await compose('--profile', 'relay', 'down', '-v', '--timeout', '5').catch((e: Error) => console.log(`# down: ${e.message}`));
    service?.kill('SIGTERM');
    await standin?.close();
    await run('podman', ['rmi', '-f', IMAGE, ICECAST_IMAGE]).catch(() => undefined);
    if (project) rmSync(project, { recursive: true, force: true });
  });

  const icecast = () => `http://127.0.0.1:${ports.ICECAST_PORT}`;
  const station = () => `http://127.0.0.1:${ports.SCAST_HTTP_PORT}`;

  /** A listener that keeps real-time pace for `seconds`, and what it heard (dominant tone). */
  async function hears(url: string, seconds: number): Promise<{ listener: Listener; rate: number; freq: number }> {
    const listener = await listen(url);
    assert.equal(listener.status, 200, `${url} answers 200`);
    await listener.when('the burst', () => (listener.bytes > 80_000 ? true : undefined), 20_000);
    const watch = rateWatch(listener, 128);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const rate = watch.steadyShare();
    const pcm = await decodeMp3(listener.audio());
    const freqs = frequencyTrack(pcm).filter((f) => f > 0);
    const freq = freqs.sort((a, b) => a - b)[Math.floor(freqs.length / 2)] ?? 0;
    listener.close();
    return { listener, rate, freq };
  }

  /** The station's own health check from outside: 200 once every channel is on air. */
  async function onAir(timeoutMs = 60_000): Promise<number> {
    const t0 = Date.now();
    await until(
      'streamer on air (GET /health 200)',
      async () =>
        (await fetch(`${station()}/health`).then(
          (r) => r.ok,
          () => false,
        ))
          ? true
          : undefined,
      timeoutMs,
      250,
    );
    return Date.now() - t0;
  }

  /**
   * Songs in the media cache volume, DJ accounts, Redis keys: what a restart
   * must keep. Not the songs' stored frames (/cache/frames): a channel
   * closing keeps what it recorded, so a restart adds to them.
   */
  async function kept(): Promise<{ cache: number; recordings: number; djs: string; redisKeys: number; playlistCopy: number }> {
    const count = async (dir: string) =>
      Number((await compose('exec', '-T', 'streamer', 'sh', '-c', `find ${dir} -path /cache/frames -prune -o -type f -print | wc -l`)).trim());
    const djs = (await compose('exec', '-T', 'streamer', 'node', 'dist/src/dj.js', 'list')).trim();
    const redis = async (...cmd: string[]) => Number((await compose('exec', '-T', 'redis', 'redis-cli', '-p', '6379', ...cmd)).trim());
    return {
      cache: await count('/cache'),
      recordings: await count('/recordings'),
      djs,
      redisKeys: await redis('dbsize'),
      playlistCopy: await redis('exists', `scast:qq:playlist:${PLAYLIST_ID}`),
    };
  }

  test('through the published ports: Icecast mount and built-in output at real-time rate, the page, the feed, a QQ song via api-proxy and Redis', async () => {
    console.log(`# streamer on air ${await onAir()} ms after compose up returned`);
    await until(
      'mount on Icecast',
      async () =>
        (
          await fetch(`${icecast()}/status-json.xsl`).then(
            (r) => r.text(),
            () => '',
          )
        ).includes('/radio.mp3')
          ? true
          : undefined,
      30_000,
      250,
    );
    const ice = await hears(`${icecast()}/radio.mp3`, 8);
    console.log(`# Icecast listener: ${(ice.rate * 100).toFixed(1)} % of real time, tone ${ice.freq.toFixed(0)} Hz`);
    assert.ok(ice.rate > 0.95 && ice.rate < 1.05, `Icecast mount at real-time rate (${ice.rate})`);
    assert.ok(Math.abs(ice.freq - 440) < 30, `the playlist's 440 Hz tone is heard (${ice.freq})`);
    const builtin = await hears(`${station()}/radio.mp3`, 8);
    console.log(`# built-in output listener: ${(builtin.rate * 100).toFixed(1)} % of real time`);
    assert.ok(builtin.rate > 0.95 && builtin.rate < 1.05, `built-in output at real-time rate (${builtin.rate})`);
    const page = await fetch(`${station()}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);

    const ws = new WebSocket(`ws://127.0.0.1:${ports.SCAST_HTTP_PORT}/ws?channel=radio`);
    const snapshot = await new Promise<{ channels: { id: string; nowPlaying: { title?: string } | null }[] }>((resolve, reject) => {
      ws.once('message', (d: Buffer) => resolve(JSON.parse(d.toString()) as never));
      ws.once('error', reject);
    });
    ws.close();
    assert.equal(snapshot.channels[0]?.nowPlaying?.title, 'Compose Tone', 'the feed names the song');

    const qq = await hears(`${station()}/qq.mp3`, 8);
    console.log(`# QQ channel: tone ${qq.freq.toFixed(0)} Hz; stand-in CDN requests ${standin.cdnRequests}`);
    assert.ok(Math.abs(qq.freq - 660) < 30, `the QQ song (660 Hz) plays through api-proxy (${qq.freq})`);
    const { redisKeys } = await kept();
    assert.ok(redisKeys > 0, `api-proxy cached in Redis (${redisKeys} keys)`);

    // Cover art made by the image's own ffmpeg: the channel's picture (a PNG) and the QQ song's (through api-proxy).
    for (const [id, px] of [
      ['radio', 400],
      ['qq', 500],
    ] as const) {
      const view = (await (await fetch(`${station()}/api/channels/${id}`)).json()) as { nowPlaying: { art: string; coverUrl: string } | null };
      assert.match(view.nowPlaying?.art ?? '', /^\/art\/[0-9a-f]{24}\.jpg$/, `${id}: a picture of its own`);
      const art = await fetch(`${station()}${view.nowPlaying!.art}`);
      assert.equal(art.status, 200);
      assert.equal(art.headers.get('content-type'), 'image/jpeg');
      assert.equal(jpegSize(Buffer.from(await art.arrayBuffer())).width, px);
      console.log(`# cover art in the container: ${id} ${view.nowPlaying!.art}`);
    }
    assert.ok(standin.imageRequests >= 1, 'the QQ cover came through api-proxy');

    // Renditions from the image's own encoders: AAC by its ffmpeg, Opus by libopus in the streamer's process.
    for (const [mount, format] of [
      ['/radio.aac', 'aac'],
      ['/radio.opus', 'ogg'],
    ] as const) {
      for (const base of [station(), icecast()]) {
        const l = await listen(`${base}${mount}`, { icy: false });
        // 4 s at 64 kbit/s.
        await l.when(`4 s of ${mount}`, () => (l.bytes > 32_000 ? true : undefined), 20_000);
        l.close();
        const freqs = frequencyTrack(await decodeAudio(l.audio(), format)).filter((f) => f > 0);
        const freq = freqs.sort((a, b) => a - b)[Math.floor(freqs.length / 2)] ?? 0;
        console.log(`# rendition in the container: ${base}${mount} ${l.headers['content-type']}, ${freq.toFixed(0)} Hz`);
        assert.ok(Math.abs(freq - 440) < 30, `${base}${mount} plays the song (${freq} Hz)`);
      }
    }
  });

  test('a DJ added inside the container broadcasts into it and is heard on Icecast', async () => {
    // As the docs say: the password typed at the prompt (here, on stdin).
    await sh(
      'docker-compose',
      ['-p', PROJECT, '--project-directory', project, 'exec', '-T', 'streamer', 'node', 'dist/src/dj.js', 'add', 'dana', '--channel', 'radio'],
      {
        env,
        cwd: project,
        input: `${DJ_PASSWORD}\n`,
      },
    );
    assert.match((await kept()).djs, /dana/);
    const listener = await listen(`${icecast()}/radio.mp3`);
    const dj = ffmpegDj(`icecast://dana:${DJ_PASSWORD}@127.0.0.1:${ports.SCAST_HTTP_PORT}/radio.mp3`, { seconds: 30, freq: 1000 });
    try {
      await until(
        'the show on air',
        async () =>
          (
            await fetch(`${station()}/api/channels`).then(
              (r) => r.text(),
              () => '',
            )
          ).includes('"dj":"dana"')
            ? true
            : undefined,
        20_000,
        250,
      );
      const from = listener.bytes;
      await listener.when('4 s of the show', () => (listener.bytes - from > 64_000 ? true : undefined), 20_000);
      const pcm = await decodeMp3(listener.audio().subarray(from));
      const freqs = frequencyTrack(pcm).filter((f) => f > 0);
      const share = freqs.filter((f) => Math.abs(f - 1000) < 30).length / Math.max(1, freqs.length);
      console.log(`# DJ through the streamer container: ${(share * 100).toFixed(0)} % of 4 s at the DJ's 1000 Hz on Icecast`);
      assert.ok(share > 0.5, `the DJ's tone is heard (${share})`);
    } finally {
      dj.kill('SIGKILL');
      listener.close();
    }
    await until('the show recorded', async () => ((await kept()).recordings > 0 ? true : undefined), 20_000, 500).catch(async (err: Error) => {
      const said = (await compose('logs', '--no-color', 'streamer')).split('\n').filter((l) => /live|record/i.test(l));
      throw new Error(`${err.message}; the streamer said: ${said.slice(-8).join('\n')}`);
    });
  });

  test("a process orphaned in the streamer's container is reaped by its PID 1, not left a zombie", async () => {
    const id = await containerOf('streamer');
    // node reaps only its own children; an orphan (a dead launcher's decoder, anything an operator ran) goes to PID 1.
    await sh('podman', ['exec', id, 'sh', '-c', '(sleep 0.3 &) ; exit 0']);
    const sleepers = async (): Promise<string[]> =>
      (await sh('podman', ['exec', id, 'sh', '-c', 'grep -l "^Name:[[:space:]]*sleep$" /proc/[0-9]*/status 2>/dev/null; true'])).split('\n').filter(Boolean);
    const pid1 = (await sh('podman', ['exec', id, 'cat', '/proc/1/comm'])).trim();
    const gone = await until('the orphan gone (exited and reaped)', async () => ((await sleepers()).length === 0 ? true : undefined), 5000, 100).catch(
      () => false,
    );
    const left = gone ? [] : await sh('podman', ['exec', id, 'sh', '-c', 'grep -h "^State" $(grep -l "^Name:[[:space:]]*sleep$" /proc/[0-9]*/status); true']);
    console.log(`# PID 1 of the streamer: ${pid1}; the orphan ${gone ? 'reaped' : `left: ${String(left).trim()}`}`);
    assert.ok(gone, `an orphan left in the container: ${String(left).trim()}`);
  });

  test('restart, a killed container, stop, down and up: back on air, nothing lost', async () => {
    const before = await kept();
    assert.ok(before.cache > 0, 'songs in the cache volume');
    assert.ok(before.recordings > 0, 'the show recorded');
    assert.equal(before.playlistCopy, 1, 'the QQ playlist copy in Redis');
    let t0 = Date.now();
    await compose('restart', 'streamer');
    const restartMs = Date.now() - t0 + (await onAir());
    const afterRestart = await kept();
    console.log(`# compose restart streamer: on air after ${restartMs} ms; kept ${JSON.stringify(afterRestart)}`);
    assert.deepEqual(afterRestart, before);

    // A crash: the container's process killed from the host; its restart policy brings it back.
    const id = await containerOf('streamer');
    const pid = (await sh('podman', ['inspect', '--format', '{{.State.Pid}}', id])).trim();
    t0 = Date.now();
    process.kill(Number(pid), 'SIGKILL');
    await until(
      'streamer down',
      async () =>
        (await fetch(`${station()}/health`).then(
          () => false,
          () => true,
        ))
          ? true
          : undefined,
      10_000,
      100,
    );
    await onAir(60_000);
    console.log(`# SIGKILL of the streamer: restarted by its policy, on air after ${Date.now() - t0} ms`);

    // compose stop: SIGTERM, a clean exit within the grace period; Icecast sees the source leave.
    t0 = Date.now();
    await compose('stop', 'streamer');
    const stopMs = Date.now() - t0;
    const exit = (await sh('podman', ['inspect', '--format', '{{.State.ExitCode}}', id])).trim();
    // Icecast notices a source's socket closing on its own time: asked until it has, for a few seconds.
    let sources = '';
    await until(
      'Icecast to drop the source',
      async () => {
        sources = await fetch(`${icecast()}/status-json.xsl`).then((r) => r.text());
        return /"listenurl":"[^"]*\/radio\.mp3"/.test(sources) ? undefined : true;
      },
      5000,
      100,
    ).catch(() => undefined);
    console.log(`# compose stop streamer: ${stopMs} ms, exit code ${exit}`);
    assert.ok(stopMs < 10_000, `stopped within the 10 s grace period (${stopMs} ms)`);
    assert.equal(exit, '0', 'SIGTERM ends it cleanly');
    assert.doesNotMatch(sources, /"listenurl":"[^"]*\/radio\.mp3"/, 'Icecast saw the source leave');

    // down, then up, volumes kept; the owner's playlist unreadable meanwhile, so only the copy in Redis can fill it.
    await compose('down', '--timeout', '10');
    standin.playlists.get(PLAYLIST_ID)!.shape = 'garbage';
    const cdnBefore = standin.cdnRequests;
    t0 = Date.now();
    await compose('up', '-d', '--no-build');
    console.log(`# down then up: on air ${Date.now() - t0 + (await onAir())} ms after up began`);
    const afterUp = await kept();
    console.log(`# after down/up: kept ${JSON.stringify(afterUp)}`);
    assert.equal(afterUp.djs, before.djs, 'DJ accounts kept');
    assert.ok(afterUp.cache >= before.cache, 'cache kept');
    assert.ok(afterUp.recordings >= before.recordings, 'recordings kept');
    assert.ok(afterUp.redisKeys >= before.redisKeys, 'Redis kept');
    const logs = await compose('logs', '--no-color', 'streamer');
    assert.match(logs, /kept from the last run/, "the QQ playlist's copy in Redis fills the channel while its owner's list cannot be read");
    await onAir();
    assert.equal(standin.cdnRequests, cdnBefore, 'the QQ song plays from the cache volume, not downloaded again');
  });

  test('docker run of the image alone, no environment: the demo channel plays on its defaults', async () => {
    const port = await freePort();
    const id = (await sh('podman', ['run', '-d', '--rm', '--read-only', '--tmpfs', '/tmp', '-p', `${port}:8080`, IMAGE])).trim();
    try {
      await until(
        'on air',
        async () =>
          (await fetch(`http://127.0.0.1:${port}/health`).then(
            (r) => r.ok,
            () => false,
          ))
            ? true
            : undefined,
        60_000,
        250,
      );
      const demo = await hears(`http://127.0.0.1:${port}/radio.mp3`, 8);
      console.log(`# docker run alone: demo channel at ${(demo.rate * 100).toFixed(1)} % of real time`);
      assert.ok(demo.rate > 0.95 && demo.rate < 1.05, `the demo channel plays at real-time rate (${demo.rate})`);
      const user = (await sh('podman', ['exec', id, 'id', '-u'])).trim();
      assert.equal(user, '1000', 'runs as node, not root');
    } finally {
      await run('podman', ['rm', '-f', id]).catch(() => undefined);
    }
  });

  test('profile relay: a relay Icecast in its own container pulls the mount', async () => {
    await compose('--profile', 'relay', 'up', '-d', '--no-build', 'icecast-relay');
    const relay = `http://127.0.0.1:${ports.ICECAST_RELAY_PORT}/radio.mp3`;
    await mountServed(relay, 60_000);
    const heard = await hears(relay, 8);
    console.log(`# relay listener: ${(heard.rate * 100).toFixed(1)} % of real time, tone ${heard.freq.toFixed(0)} Hz`);
    assert.ok(heard.rate > 0.9, `relayed at real-time rate (${heard.rate})`);
  });
});
