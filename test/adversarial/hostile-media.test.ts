/**
 * Attack: `url` tracks served by a hostile media server, and a decoder that
 * hangs. Nothing but the intended songs may reach the air: not a local file
 * named by an HLS playlist or concat script dressed as a song, not media from
 * a private address reached directly or by redirect, not a `file:` redirect.
 * Each bad song is skipped with its reason; a trickling download holds back
 * nothing; titles from hostile tags are cleaned; children see no secrets.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decoderReading } from '../helpers/children.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { listen, type Listener } from '../helpers/listener.js';
import { AUDIBLE_RMS, decodeMp3, frequencyTrack, steadyToneWindows, makeTone, silentRuns, toneChanges } from '../helpers/media.js';
import { until } from '../helpers/ports.js';
import { rateWatch, startStationProcess, type StationProcess } from '../helpers/station-process.js';
import { tempDir, writePlaylist } from '../helpers/station.js';

const SECRET_HZ = 3000;
const CONTROL_TOKEN = 'hostile-control-token-SECRET-1';
const PROXY_TOKEN = 'hostile-proxy-token-SECRET-2';

async function serve(host: string, handler: http.RequestListener): Promise<{ server: http.Server; base: string; hits: Map<string, number> }> {
  const hits = new Map<string, number>();
  const server = http.createServer((req, res) => {
    hits.set(req.url ?? '', (hits.get(req.url ?? '') ?? 0) + 1);
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  return { server, base: `http://${host}:${(server.address() as AddressInfo).port}`, hits };
}

describe('adversarial: hostile media servers and decoders', { timeout: 180_000 }, () => {
  let station: StationProcess;
  let listener: Listener;
  let hostile: Awaited<ReturnType<typeof serve>>;
  let privateHost: Awaited<ReturnType<typeof serve>>;
  const timers: NodeJS.Timeout[] = [];
  const dir = tempDir('hostile');
  const outside = tempDir('hostile-secret');
  let secret: string;

  before(async () => {
    secret = await makeTone({ file: path.join(outside, 'secret.m4a'), freq: SECRET_HZ, seconds: 3, args: ['-c:a', 'aac'], title: 'SECRET' });
    // The trickle after Good One keeps its turn for SLOW_AFTER_MS (1.5 s), then Good Two is prepared behind it:
    // Good One must outlast that, plus Good Two's preparation, plus a loaded CI machine's delays (2 s did not, once).
    await makeTone({ file: path.join(dir, 'good1.m4a'), freq: 440, seconds: 3, args: ['-c:a', 'aac'], title: 'Good One' });
    await makeTone({ file: path.join(dir, 'good2.m4a'), freq: 550, seconds: 2, args: ['-c:a', 'aac'], title: 'Good Two' });
    const evil = await makeTone({
      file: path.join(outside, 'evil.mp3'),
      freq: 660,
      seconds: 2,
      args: ['-c:a', 'libmp3lame'],
      title: "Evil\r\nX-Injected: 1\u0007 ';StreamUrl='http://evil.example/';",
    });
    const evilBytes = readFileSync(evil);
    privateHost = await serve('127.0.0.5', (_req, res) => {
      res.writeHead(200, { 'content-type': 'audio/mp4' });
      res.end(readFileSync(secret));
    });
    hostile = await serve('127.0.0.1', (req, res) => {
      const audio = (type: string) => res.writeHead(200, { 'content-type': type });
      switch (req.url) {
        case '/hls.m4a':
          audio('audio/mp4');
          res.end(`#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:3,\nfile://${secret}\n#EXT-X-ENDLIST\n`);
          return;
        case '/hls-http.m4a':
          audio('application/octet-stream');
          res.end(`#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:3,\n${privateHost.base}/via-hls.m4a\n#EXT-X-ENDLIST\n`);
          return;
        case '/concat.mp3':
          audio('audio/mpeg');
          res.end(`ffconcat version 1.0\nfile ${secret}\n`);
          return;
        case '/endless.mp3': {
          audio('audio/mpeg');
          const chunk = Buffer.alloc(64 * 1024, 0xff);
          const pump = (): void => {
            while (res.write(chunk));
          };
          res.on('drain', pump);
          res.on('close', () => res.off('drain', pump));
          pump();
          return;
        }
        case '/trickle.m4a': {
          audio('audio/mp4');
          const t = setInterval(() => res.write('x'), 200);
          timers.push(t);
          res.on('close', () => clearInterval(t));
          return;
        }
        case '/to-file':
          res.writeHead(302, { location: `file://${secret}` }).end();
          return;
        case '/to-private':
          res.writeHead(302, { location: `${privateHost.base}/via-redirect.m4a` }).end();
          return;
        case '/loop':
          res.writeHead(302, { location: '/loop' }).end();
          return;
        case '/evil.mp3':
          audio('audio/mpeg');
          res.end(evilBytes);
          return;
        default:
          res.writeHead(404).end();
      }
    });
    const u = (p: string) => ({ source: 'url', url: `${hostile.base}${p}` });
    writePlaylist(dir, 'hostile', {
      name: 'Hostile',
      mount: '/hostile.mp3',
      tracks: [
        { source: 'file', path: 'good1.m4a' },
        u('/hls.m4a'),
        u('/trickle.m4a'),
        { source: 'file', path: 'good2.m4a' },
        u('/hls-http.m4a'),
        u('/concat.mp3'),
        u('/endless.mp3'),
        u('/to-file'),
        u('/to-private'),
        u('/loop'),
        { source: 'url', url: `${privateHost.base}/direct.m4a` },
        { source: 'url', url: `http://user:SECRET-pw@127.0.0.1:${new URL(hostile.base).port}/missing.mp3?token=SECRET-token` },
        u('/evil.mp3'),
      ],
    });
    station = await startStationProcess({
      PLAYLISTS_DIR: dir,
      CACHE_DIR: tempDir('hostile-cache'),
      // The hostile server is on 127.0.0.1, allowed as a home server would be; 127.0.0.5 is not.
      MEDIA_ALLOW_HOSTS: '127.0.0.1',
      MAX_DOWNLOAD_MB: '2',
      CONTROL_TOKEN,
      API_PROXY_URL: 'http://127.0.0.1:9',
      API_PROXY_TOKEN: PROXY_TOKEN,
      // A long-lived child to inspect: the encoder as a process (by default it runs inside the station), never stood
      // down for stored frames (a song's second play sends its stored frames and stops LAME meanwhile).
      MP3_ENCODER: 'lame',
      REUSE_FRAMES: 'false',
    });
    listener = await listen(`${station.url}/hostile.mp3`, { localAddress: '127.0.0.2' });
  });

  after(async () => {
    for (const t of timers) clearInterval(t);
    listener?.close();
    await station?.close();
    hostile?.server.closeAllConnections();
    hostile?.server.close();
    privateHost?.server.close();
  });

  test('only the intended songs reach the air; every hostile one is skipped with its reason', async () => {
    const watch = rateWatch(listener, 128);
    // Two whole rounds of the list: every hostile entry met twice.
    await until(
      'a whole round played',
      () => (listener.titles.some((t) => t.title.includes('Evil')) && listener.titles.filter((t) => t.title === 'Good One').length >= 2 ? true : undefined),
      60_000,
    );
    const skipped = station.find(/song skipped/).map((l) => `${String(l.song)} => ${String(l.err)}`);
    const reason = (route: string) => skipped.find((s) => s.includes(route)) ?? `(not skipped: ${route})`;
    assert.match(reason('/hls.m4a'), /probe/);
    assert.match(reason('/hls-http.m4a'), /probe/);
    assert.match(reason('/concat.mp3'), /probe/);
    assert.match(reason('/endless.mp3'), /limit/);
    assert.match(reason('/to-file'), /redirected to a file: URL/);
    assert.match(reason('/to-private'), /127\.0\.0\.5.*loopback, private/);
    assert.match(reason('/loop'), /more than 5 redirects/);
    assert.match(reason('/direct.m4a'), /127\.0\.0\.5.*loopback, private/);
    assert.equal(
      [...privateHost.hits.values()].reduce((a, b) => a + b, 0),
      0,
      'the private host was never contacted',
    );

    const pcm = await decodeMp3(listener.audio());
    const windows = frequencyTrack(pcm, 44100, 20, AUDIBLE_RMS);
    const secretWindows = steadyToneWindows(windows, SECRET_HZ);
    assert.equal(secretWindows, 0, `the secret file's tone was on air in ${secretWindows} windows of 20 ms`);
    // Good One -> (trickle, slow) -> Good Two: the seam passes over the trickle without a gap.
    const seam = toneChanges(pcm, [440, 550, 660]).find((c) => c.to === 550);
    assert.ok(seam, 'Good Two followed Good One');
    const gap = silentRuns(pcm).find((r) => Math.abs(r.startSec + r.ms / 2000 - seam.at) < 0.5 && r.ms > 50);
    assert.equal(gap, undefined, `silence at the seam past the trickling download: ${JSON.stringify(gap)}`);
    assert.ok(watch.deficitMs() < 300, `listener ${Math.round(watch.deficitMs())} ms short of real time (${(watch.share() * 100).toFixed(1)} %)`);
    console.log(
      `# ${skipped.length} skips over two rounds, secret tone windows ${secretWindows}, private host hits 0, listener ${(watch.share() * 100).toFixed(1)} %, longest gap ${watch.maxGapMs()} ms`,
    );
  });

  test('titles from hostile tags are cleaned: no line breaks, no control characters, no field injection', () => {
    const evil = listener.titles.find((t) => t.title.includes('Evil'));
    assert.ok(evil, `the evil-tagged song played: ${JSON.stringify(listener.titles.map((t) => t.title))}`);
    assert.equal(evil.title, 'Evil X-Injected: 1 \u2019;StreamUrl=\u2019http://evil.example/\u2019;');
    for (const t of listener.titles) assert.doesNotMatch(t.title, /[\u0000-\u001f]/);
  });

  test('secrets in track URLs never appear in the API, the health check, the metrics or the logs', async () => {
    const bodies = await Promise.all(
      ['/api/channels', '/api/channels/hostile', '/health', '/metrics'].map(async (p) => (await fetch(`${station.url}${p}`)).text()),
    );
    const logs = JSON.stringify(station.lines);
    for (const [where, text] of [...bodies.map((b, i) => [`answer ${i}`, b] as const), ['logs', logs] as const]) {
      assert.ok(!text.includes('SECRET-pw') && !text.includes('SECRET-token'), `${where} shows a URL secret`);
    }
    // Logs are the operator's and name files; public answers do not.
    for (const b of bodies.slice(0, 3)) assert.ok(!b.includes(dir), `a public answer shows the server's media folder: ${b.slice(0, 300)}`);
    assert.ok(
      station.find(/song skipped/).some((l) => String(l.song).includes('missing.mp3?token=***')),
      'the URL is shown redacted',
    );
  });

  test('child processes start without the station secrets in their environment', async () => {
    const kids = station.children();
    assert.ok(kids.length >= 1, 'at least the encoder runs');
    for (const pid of kids) {
      let environ: string;
      try {
        environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      } catch {
        continue; // exited meanwhile
      }
      assert.ok(!environ.includes(CONTROL_TOKEN) && !environ.includes(PROXY_TOKEN) && !environ.includes('API_PROXY'), `child ${pid} sees secrets`);
      assert.match(environ, /PATH=/);
    }
  });

  test('a hung decoder is killed by the watchdog and the next song follows', async () => {
    const long = await makeTone({ file: path.join(dir, 'long.m4a'), freq: 440, seconds: 60, args: ['-c:a', 'aac'], title: 'Long' });
    const ctl = (p: string, body: unknown) =>
      fetch(`${station.url}/api/channels/hostile${p}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${CONTROL_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    assert.equal((await ctl('/queue', { source: 'file', path: path.basename(long), title: 'Long' })).status, 202);
    assert.equal((await ctl('/queue', { source: 'file', path: 'good2.m4a', title: 'After The Hang' })).status, 202);
    await listener.waitForTitle((t) => t === 'Long', 20_000);
    // Its decoder: the ffmpeg child decoding to PCM with long.m4a open (it reads the station's pinned descriptor). Stopped, as a hung process would be.
    const decoder = await until('the decoder', () => decoderReading('long.m4a', station.pid), 5000);
    const stoppedAt = Date.now();
    process.kill(decoder, 'SIGSTOP');
    const next = await listener.waitForTitle((t) => t === 'After The Hang', 20_000);
    const took = next.at - stoppedAt;
    console.log(`# decoder stopped; next song on air ${took} ms later`);
    assert.ok(took < 9000, `took ${took} ms`);
    assert.ok(
      station.find(/decoder failed mid-song/).some((l) => /made no progress/.test(String(l.err))),
      'the watchdog says what it did',
    );
    assert.ok(station.alive());
  });
});
