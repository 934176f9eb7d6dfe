import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { icyValue } from '../../src/audio/icy.js';
import { displayTitle as plainTitle } from '../../src/playout/now-playing.js';

/** A title as listeners see it: ASCII quotes typeset (see icyValue). */
const displayTitle = (t: Parameters<typeof plainTitle>[0]): string => icyValue(plainTitle(t));
import { startIcecast, type IcecastHandle } from '../helpers/icecast.js';
import { listen } from '../helpers/listener.js';
import { decodeMp3, makeTone, silentRuns, toneChanges } from '../helpers/media.js';
import { until } from '../helpers/ports.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

const SONGS = [
  { freq: 440, title: 'Alpha', artist: 'Plain Band' },
  { freq: 660, title: '测试歌曲', artist: '歌手' },
  { freq: 880, title: "Don't Stop & go; now 🎵", artist: 'Q"uote' },
];

describe('Icecast source output against a real Icecast 2', { timeout: 180_000 }, () => {
  let ice: IcecastHandle;
  let station: Awaited<ReturnType<typeof runStation>>;
  const dir = tempDir('ice-playlists');

  before(async () => {
    const tracks = [];
    for (const [i, s] of SONGS.entries()) {
      const file = await makeTone({ file: path.join(dir, `s${i}.m4a`), freq: s.freq, seconds: 4, args: ['-c:a', 'aac', '-b:a', '96k'] });
      tracks.push({ source: 'file', path: path.basename(file), title: s.title, artist: s.artist });
    }
    writePlaylist(dir, 'main', { name: '测试 Radio', mount: '/main.mp3', genre: 'Test', description: 'integration', tracks });
    ice = await startIcecast();
    station = await runStation({
      PLAYLISTS_DIR: dir,
      ICECAST_URL: ice.sourceUrl,
      ICECAST_ADMIN_USER: 'admin',
      ICECAST_ADMIN_PASSWORD: ice.adminPassword,
      BUILTIN_OUTPUT: 'false',
    });
  });

  after(async () => {
    await station?.close();
    await ice?.stop();
  });

  test('an ICY listener receives continuous MP3, every title in Chinese and with quotes, near the audible change', async () => {
    await until('mount on Icecast', async () => ((await ice.status()).some((m) => m.listenurl.endsWith('/main.mp3')) ? true : undefined));
    const listener = await listen(`${ice.url}/main.mp3`);
    assert.equal(listener.status, 200);
    assert.equal(listener.headers['content-type'], 'audio/mpeg');
    assert.equal(listener.headers['icy-name'], '测试 Radio');
    // Wait for two full cycles of titles so every seam is heard.
    const expected = SONGS.map(displayTitle);
    let seen = 0;
    for (let round = 0; round < 2; round++) {
      for (const title of expected) {
        await listener.waitForTitle((t) => t === title && listener.titles.filter((x) => x.title === title).length > round, 30_000);
        seen++;
      }
    }
    listener.close();
    assert.equal(seen, 6);
    // Icecast announces an empty title to a listener who joins before any update.
    for (const t of listener.titles) assert.ok(t.title === '' || expected.includes(t.title), `unexpected title ${JSON.stringify(t.title)}`);

    const pcm = await decodeMp3(listener.audio());
    const runs = silentRuns(pcm);
    assert.deepEqual(
      runs.filter((r) => r.ms > 26),
      [],
      `silence over 26 ms: ${JSON.stringify(runs)}`,
    );

    // Each title arrives within one metadata interval (1 s at 128 kbit/s) of the audible seam.
    const changes = toneChanges(
      pcm,
      SONGS.map((s) => s.freq),
    );
    assert.ok(changes.length >= 4, `seams heard: ${JSON.stringify(changes)}`);
    const offsets: number[] = [];
    for (const change of changes) {
      const song = SONGS.find((s) => s.freq === change.to)!;
      const title = listener.titles.find((t) => t.title === displayTitle(song) && Math.abs(t.audioOffset / 16000 - change.at) < 3);
      assert.ok(title, `no title near the seam at ${change.at}s`);
      offsets.push(title.audioOffset / 16000 - change.at);
    }
    console.log(`# title offset vs audible seam (s): ${offsets.map((o) => o.toFixed(2)).join(', ')}`);
    for (const o of offsets) assert.ok(Math.abs(o) <= 1.05, `title ${o.toFixed(2)} s from the seam`);
  });

  test('Icecast killed and restarted: on air again within 1 s of accepting, with the current title', async () => {
    const output = () => station.station.channels[0]!;
    await until('streaming', async () => ((await ice.status()).some((m) => m.listenurl.endsWith('/main.mp3')) ? true : undefined));
    await ice.kill();
    // Keep Icecast down past a few retry rounds.
    await station.logs.when('reconnect attempts', () => (station.logs.find(/failed|closed/).length > 0 ? true : undefined));
    await new Promise((r) => setTimeout(r, 1500));
    const before = Date.now();
    const acceptedAt = await ice.start();
    const liveAt = await until(
      'mount back',
      async () => ((await ice.status()).some((m) => m.listenurl.endsWith('/main.mp3')) ? Date.now() : undefined),
      5000,
      10,
    );
    const backMs = liveAt - acceptedAt;
    console.log(`# back on air ${backMs} ms after Icecast accepted (start took ${acceptedAt - before} ms)`);
    assert.ok(backMs <= 1000, `back after ${backMs} ms`);
    const np = output().nowPlaying!;
    const title = await until(
      'title re-sent',
      async () => {
        const m = (await ice.status()).find((x) => x.listenurl.endsWith('/main.mp3'));
        const want = displayTitle(output().nowPlaying ?? np);
        return m?.title === want ? m.title : undefined;
      },
      5000,
    );
    assert.ok(SONGS.map(displayTitle).includes(title));
    // A listener after the restart hears audio again.
    const listener = await listen(`${ice.url}/main.mp3`);
    await listener.when('audio after restart', () => (listener.bytes > 32_000 ? true : undefined), 10_000);
    listener.close();
  });
});

describe('Icecast refusals', { timeout: 60_000 }, () => {
  test('a wrong password gives one clear error naming mount and server, retried slowly', async () => {
    const ice = await startIcecast();
    const dir = tempDir('ice-auth');
    await makeTone({ file: path.join(dir, 'a.m4a'), freq: 440, seconds: 2, args: ['-c:a', 'aac'] });
    writePlaylist(dir, 'auth', { name: 'Auth', mount: '/auth.mp3', tracks: [{ source: 'file', path: 'a.m4a' }] });
    const station = await runStation({ PLAYLISTS_DIR: dir, ICECAST_URL: `http://source:wrong@127.0.0.1:${ice.port}`, BUILTIN_OUTPUT: 'false' });
    try {
      const errors = await until('auth error', () => {
        const l = station.logs.lines.filter((x) => (x.err as { code?: string } | undefined)?.code === 'SCAST_ICECAST_AUTH');
        return l.length > 0 ? l : undefined;
      });
      const line = errors[0]!;
      assert.equal(line.level, 50, 'logged at error level');
      assert.match(String(line.msg), /\/auth\.mp3/);
      assert.match(String(line.msg), new RegExp(`127\\.0\\.0\\.1:${ice.port}`));
      assert.match(String(line.msg), /password/);
      assert.doesNotMatch(JSON.stringify(station.logs.lines), /:wrong@/, 'the password is not logged');
      // Over 3 s: no hot loop (retries wait 5 s), and the error is not repeated at error level.
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, 3000));
      const after = station.logs.lines.filter((x) => (x.err as { code?: string } | undefined)?.code === 'SCAST_ICECAST_AUTH');
      assert.equal(after.length, 1, `auth error logged ${after.length} times in ${Date.now() - t0} ms`);
      assert.deepEqual(await ice.status(), []);
    } finally {
      await station.close();
      await ice.stop();
    }
  });
});

describe('several outputs and a busy mount', { timeout: 90_000 }, () => {
  test('two Icecast servers: one down never stalls the other; a busy mount is retried until free', async () => {
    const up = await startIcecast();
    const down = await startIcecast();
    await down.stop();
    // Another source holds the mount on `up` first.
    const net = await import('node:net');
    const squatter = net.connect(up.port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      squatter.once('connect', () => {
        squatter.write(
          `SOURCE /multi.mp3 HTTP/1.0\r\nAuthorization: Basic ${Buffer.from(`source:${up.sourcePassword}`).toString('base64')}\r\nContent-Type: audio/mpeg\r\n\r\n`,
        );
      });
      squatter.once('data', () => resolve());
      squatter.once('error', reject);
    });
    const dir = tempDir('multi');
    await makeTone({ file: path.join(dir, 'a.m4a'), freq: 440, seconds: 3, args: ['-c:a', 'aac'] });
    writePlaylist(dir, 'multi', { name: 'Multi', mount: '/multi.mp3', tracks: [{ source: 'file', path: 'a.m4a', title: 'A' }] });
    const station = await runStation({ PLAYLISTS_DIR: dir, ICECAST_URL: `${down.sourceUrl},${up.sourceUrl}`, BUILTIN_OUTPUT: 'true' });
    try {
      const busy = await until('mount busy reported', () => {
        const l = station.logs.lines.find((x) => (x.err as { code?: string } | undefined)?.code === 'SCAST_ICECAST_MOUNT_BUSY');
        return l;
      });
      assert.equal(busy.level, 30, 'a mount taken by another source makes a spare: info, not a fault');
      // Meanwhile the channel and its built-in output play on.
      const builtin = await listen(`${station.url}/multi.mp3`);
      await builtin.waitForTitle((t) => t === 'A');
      squatter.destroy();
      await until(
        'on air on the live server',
        async () => ((await up.status()).some((m) => m.listenurl.endsWith('/multi.mp3') && m.user_agent === 'sCast/0.1.0') ? true : undefined),
        5000,
      );
      const listener = await listen(`${up.url}/multi.mp3`);
      await listener.when('audio from the live server', () => (listener.bytes > 20_000 ? true : undefined), 10_000);
      listener.close();
      const before = builtin.bytes;
      await builtin.when('built-in output still flowing', () => (builtin.bytes > before + 16_000 ? true : undefined), 5000);
      builtin.close();
      const outputs = station.station.channels[0]!;
      assert.equal(outputs.status, 'on-air');
    } finally {
      squatter.destroy();
      await station.close();
      await up.stop();
    }
  });
});
