/**
 * Attack through the live input: password guessing at scale, slow and
 * oversized source heads, hostile show names, a valid DJ sending noise
 * labelled as Ogg. The station must answer each as Icecast would, keep
 * its listener at full rate, never crash, and never put anything but the
 * playlist or a real show on air.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { hashPassword, writeDjFile } from '../../src/live/accounts.js';
import { processFaults } from '../../src/kernel/process-guard.js';
import { listen, type Listener } from '../helpers/listener.js';
import { decodeMp3, makeTone, silentRuns } from '../helpers/media.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';
import { basicAuth, sourceRequest } from '../helpers/source-client.js';

const PW = 'the-real-password';

const source = sourceRequest;
const auth = basicAuth;

describe('adversarial: the live input', { timeout: 180_000 }, () => {
  let station: Awaited<ReturnType<typeof runStation>>;
  let port: number;
  let listener: Listener;
  const faults = processFaults.uncaught;

  before(async () => {
    const dir = tempDir('adv-live');
    const media = tempDir('adv-live-media');
    const song = await makeTone({ file: path.join(media, 's.m4a'), freq: 440, seconds: 60, args: ['-c:a', 'aac'], title: 'Music' });
    writePlaylist(dir, 'radio', { name: 'Radio', mount: '/radio.mp3', loudness: false, live: { deadAirSeconds: 2 }, tracks: [{ source: 'file', path: song }] });
    const djs = path.join(tempDir('djs'), 'djs.json');
    await writeDjFile(djs, { djs: [{ user: 'dj', channels: ['radio'], hash: await hashPassword(PW), timezone: 'UTC' }] });
    station = await runStation({ PLAYLISTS_DIR: dir, MEDIA_DIRS: media, DJS_FILE: djs, HTTP_HEADERS_TIMEOUT_MS: '2000', MAX_CONNECTIONS_PER_ADDRESS: '0' });
    port = Number(new URL(station.url).port);
    listener = await listen(`${station.url}/radio.mp3`);
    await listener.when('music', () => (listener.titles.length > 0 ? true : undefined), 20_000);
  });

  after(async () => {
    listener?.close();
    await station?.close();
  });

  test('300 password guesses at once from one address: a few checked, the rest refused for load; guessing on, locked out at the tenth failure; the listener never starved; a real DJ elsewhere still signs in', async () => {
    const from = listener.bytes;
    const t0 = Date.now();
    const guesses = Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        source(port, `SOURCE /radio.mp3 HTTP/1.0\r\n${auth('dj', `guess-${i}`)}Content-Type: audio/mpeg\r\n\r\n`, undefined, { from: '127.0.0.5' }),
      ),
    );
    const health = await fetch(`${station.url}/health`);
    const healthMs = Date.now() - t0;
    const answers = await guesses;
    // One address holds at most two checks at a time: the burst cost two. Guessing on, one at a time, it is locked out at its tenth failure.
    let tries = 0;
    for (; tries < 20; tries++) {
      const r = await source(port, `SOURCE /radio.mp3 HTTP/1.0\r\n${auth('dj', `again-${tries}`)}Content-Type: audio/mpeg\r\n\r\n`, undefined, {
        from: '127.0.0.5',
      });
      if (r.status === 403) break;
    }
    // After that, more guesses from there are refused before any password check, even the right password.
    const later = await source(port, `SOURCE /radio.mp3 HTTP/1.0\r\n${auth('dj', PW)}Content-Type: audio/mpeg\r\n\r\n`, undefined, { from: '127.0.0.5' });
    assert.equal(later.status, 403);
    assert.match(later.text, /too many failed sign-ins from your address/);
    // The real DJ, from another address, gets past the password (refused only for sending no audio type).
    const real = await source(port, `SOURCE /radio.mp3 HTTP/1.0\r\n${auth('dj', PW)}\r\n`);
    assert.match(real.text, /Content-type not supported/);
    assert.equal(station.logs.find(/failed sign-ins from 127\.0\.0\.5/).length, 1, 'the lock-out logged once');
    assert.equal(station.logs.find(/sign-ins refused \(503\)/).length, 1, 'the queue overflow logged once, not per attempt');
    assert.ok(station.logs.find(/live: source refused/).length <= 20, 'no line per guess');
    const counts = answers.reduce<Record<number, number>>((c, a) => ({ ...c, [a.status]: (c[a.status] ?? 0) + 1 }), {});
    const slowest = Math.max(...answers.map((a) => a.ms));
    await listener.when('2 s more audio', () => (listener.bytes > from + 2 * 16000 ? true : undefined), 10_000);
    const pcm = await decodeMp3(listener.audio().subarray(from));
    const longest = Math.max(0, ...silentRuns(pcm, 44100, 3).map((r) => r.ms));
    console.log(
      `# live guessing: ${JSON.stringify(counts)}, then locked out after ${tries} more, slowest answer ${slowest} ms, /health in ${healthMs} ms, longest silence at the listener ${longest.toFixed(0)} ms`,
    );
    assert.equal((counts[401] ?? 0) + (counts[403] ?? 0) + (counts[503] ?? 0), 300);
    // A few checked and refused as wrong (two at a time from one address, within the budget's burst); the rest refused for load (503), uncounted and unchecked.
    assert.ok((counts[401] ?? 0) >= 1 && (counts[401] ?? 0) <= 10, `checked and refused as wrong: ${counts[401]}`);
    assert.equal(counts[503], 300 - (counts[401] ?? 0));
    assert.equal(tries, 10 - (counts[401] ?? 0), `locked out after ${tries} more one at a time`);
    assert.equal(health.status, 200);
    assert.ok(longest < 50, `the listener heard ${longest} ms of silence`);
  });

  test('a head sent a byte at a time is cut off at the header timeout; an oversized one is refused at once', async () => {
    const slow = await source(port, `SOURCE /radio.mp3 HTTP/1.0\r\n${auth('dj', PW)}Content-Type: audio/mpeg\r\nX-Pad: ${'a'.repeat(200)}\r\n\r\n`, undefined, {
      slowMs: 50,
    });
    assert.ok(slow.ms < 4000, `held for ${slow.ms} ms`);
    assert.equal(slow.status, 400);
    const big = await source(port, `SOURCE /radio.mp3 HTTP/1.0\r\nX-Big: ${'b'.repeat(10_000)}\r\n\r\n`);
    assert.equal(big.status, 400);
    assert.match(big.text, /request head over 8192 bytes/);
  });

  test('a control character in a header is refused; noise labelled as Ogg from a real DJ is dropped with the DJ named, and nothing of it reaches the air', async () => {
    const seen = listener.titles.length;
    const escape = await source(port, `SOURCE /radio.mp3 HTTP/1.0\r\n${auth('dj', PW)}Content-Type: audio/mpeg\r\nice-name: Evil\x1b[2J\r\n\r\n`);
    assert.equal(escape.status, 400, 'a control character in a header');
    assert.match(escape.text, /control characters in header ice-name/);
    const hostile = Buffer.from(
      `SOURCE /radio.mp3 HTTP/1.0\r\n${auth('dj', PW)}Content-Type: application/ogg\r\nice-name: Evil';StreamUrl='http://x/\r\n\r\n`,
      'latin1',
    );
    const answer = await source(port, hostile, randomBytes(200_000));
    assert.match(answer.text, /^HTTP\/1\.0 200 OK/);
    const off = await station.logs.when('noise dropped', () => station.logs.find(/live: dj off/)[0], 10_000);
    assert.match(String(off.reason), /no decodable audio|could not be decoded/);
    assert.equal(off.dj, 'dj');
    assert.ok(
      listener.titles.slice(seen).every((t) => t.title === 'Music'),
      `titles: ${JSON.stringify(listener.titles.slice(seen))}`,
    );
    assert.equal(processFaults.uncaught, faults, 'nothing reached the process guard');
  });
});
