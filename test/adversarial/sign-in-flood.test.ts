/**
 * Attack: the DJ sign-in door, on both ports. Wrong-password sign-ins
 * arriving together from hundreds of addresses (so no per-address lock-out
 * trips), on the HTTP port and on LIVE_PORT at once; a live DJ's own title
 * updates sent during such a flood; guesses at one DJ's password
 * interleaved with another DJ's right one. A listener records each
 * channel. The station must bound its password checks globally, keep
 * every channel's audio and /health, never count its own load refusals
 * against a DJ, and let the real DJ on air once the flood stops.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Listener } from '../helpers/listener.js';
import { decodeMp3, silentRuns } from '../helpers/media.js';
import { freePort, until } from '../helpers/ports.js';
import { ffmpegDj, sourceHead, sourceRequest } from '../helpers/source-client.js';
import type { StationProcess } from '../helpers/station-process.js';
import { twoChannelStation } from '../helpers/two-channels.js';

const PW = { alice: 'alice-right-password', bob: 'bob-right-password' };

/** The i-th attacking address: 127.0.x.y, never the listeners' (127.0.0.2), the probe's (127.0.0.3) or the DJ's (127.0.0.1). */
const attacker = (i: number): string => `127.0.${10 + (i % 200)}.${1 + Math.floor(i / 200)}`;

function get(url: string, from = '127.0.0.3', headers: Record<string, string> = {}): Promise<{ status: number; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const req = http.get(url, { localAddress: from, headers, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Date.now() - t0 }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, ms: Date.now() - t0 }));
  });
}

/** Longest silence (ms) in what `listener` received since byte `from`. */
async function longestSilence(listener: Listener, from: number): Promise<number> {
  const pcm = await decodeMp3(listener.audio().subarray(from));
  return Math.max(0, ...silentRuns(pcm, 44100, 3).map((r) => r.ms));
}

function tally(answers: { status: number }[]): Record<number, number> {
  return answers.reduce<Record<number, number>>((c, a) => ({ ...c, [a.status]: (c[a.status] ?? 0) + 1 }), {});
}

describe('adversarial: sign-in floods at the live door', { timeout: 240_000 }, () => {
  let station: StationProcess;
  let livePort: number;
  let radio: Listener;
  let other: Listener;
  let dj: ChildProcess | null = null;

  before(async () => {
    livePort = await freePort();
    ({ station, radio, other } = await twoChannelStation('signin', {
      seconds: 120,
      djs: [
        { user: 'alice', channel: 'radio', password: PW.alice },
        { user: 'bob', channel: 'other', password: PW.bob },
      ],
      env: { LIVE_PORT: String(livePort), MAX_CONNECTIONS_PER_ADDRESS: '16' },
    }));
  });

  after(async () => {
    dj?.kill('SIGKILL');
    radio?.close();
    other?.close();
    await station?.close();
  });

  test('800 wrong sign-ins at once from 400 addresses on both ports: checks bounded, no silence, /health answers, and the real DJ gets on air once it stops', async () => {
    const fromRadio = radio.bytes;
    const fromOther = other.bytes;
    const t0 = Date.now();
    const flood = Promise.all(
      Array.from({ length: 800 }, (_, i) =>
        sourceRequest(i % 2 ? livePort : station.port, sourceHead('/radio.mp3', 'alice', `guess-${i}`), undefined, { from: attacker(i >> 1) }),
      ),
    );
    const health = await get(`${station.url}/health`);
    const answers = await flood;
    const floodMs = Date.now() - t0;
    const counts = tally(answers);
    const slowest = Math.max(...answers.map((a) => a.ms));
    const silences = [await longestSilence(radio, fromRadio), await longestSilence(other, fromOther)];
    // Once it stops: the real DJ, with the right password, from her own address.
    const signIn = Date.now();
    dj = ffmpegDj(`icecast://alice:${PW.alice}@127.0.0.1:${station.port}/radio.mp3`, { seconds: 120 });
    await station.when('alice on air', () => station.find(/live: alice connected to radio/)[0], 15_000);
    const onAirMs = Date.now() - signIn;
    console.log(
      `# 800 sign-ins from 400 addresses over ${floodMs} ms: ${JSON.stringify(counts)}, slowest answer ${slowest} ms; /health ${health.status} in ${health.ms} ms; ` +
        `longest silence ${silences.map((s) => s.toFixed(0)).join(' / ')} ms (radio / other); real DJ admitted ${onAirMs} ms after the flood`,
    );
    assert.equal(answers.length, 800);
    assert.ok(
      answers.every((a) => [401, 503].includes(a.status)),
      `answers ${JSON.stringify(counts)}`,
    );
    // The budget: a burst of 10 and 5 a second; no address reached 10 failures, and the load refusals counted for nobody.
    const bound = 10 + Math.ceil((floodMs / 1000) * 5) + 1;
    assert.ok((counts[401] ?? 0) <= bound, `${counts[401]} password checks in ${floodMs} ms (bound ${bound})`);
    assert.ok(slowest < 5000, `slowest answer ${slowest} ms`);
    assert.equal(health.status, 200);
    assert.ok(health.ms < 1000, `/health took ${health.ms} ms`);
    assert.ok(
      silences.every((s) => s < 300),
      `silence at a listener: ${silences.join(', ')} ms`,
    );
    assert.ok(onAirMs < 5000, `the real DJ took ${onAirMs} ms to be admitted`);
  });

  test("the live DJ's own title updates during a flood all land, and never lock her out", async () => {
    await until(
      'alice heard',
      () => station.find(/live: first audio decoded/)[0] ?? station.find(/now playing/).find((l) => /alice/.test(String(l.key))),
      10_000,
    ).catch(() => undefined);
    const flood = Promise.all(
      Array.from({ length: 600 }, (_, i) =>
        sourceRequest(i % 2 ? livePort : station.port, sourceHead('/radio.mp3', 'alice', `again-${i}`), undefined, { from: attacker(1000 + i) }),
      ),
    );
    const auth = { authorization: `Basic ${Buffer.from(`alice:${PW.alice}`).toString('base64')}` };
    const updates: { status: number; ms: number }[] = [];
    for (let i = 0; i < 12; i++) updates.push(await get(`${station.url}/admin/metadata?mode=updinfo&mount=/radio.mp3&song=Song%20${i}`, '127.0.0.1', auth));
    await flood;
    // Her client drops and reconnects from the same address.
    dj?.kill('SIGKILL');
    await station.when('the show ended', () => station.find(/live: alice off/)[0], 10_000);
    const again = await sourceRequest(station.port, sourceHead('/radio.mp3', 'alice', PW.alice), undefined, { from: '127.0.0.1' });
    console.log(
      `# 12 title updates during 600 sign-ins: ${JSON.stringify(tally(updates))}, slowest ${Math.max(...updates.map((u) => u.ms))} ms; her reconnect: ${again.status}`,
    );
    assert.deepEqual(tally(updates), { 200: 12 }, 'every title update of the live DJ landed');
    assert.equal(again.status, 200, `her reconnect was answered ${again.text.trim()}`);
  });

  test("another DJ's right password does not clear an address's failed guesses", async () => {
    // Sequential, within the check budget: 9 wrong for alice, bob's right password (refused: not his channel), one more wrong.
    const from = '127.0.9.9';
    for (let i = 0; i < 9; i++)
      assert.equal((await sourceRequest(station.port, sourceHead('/radio.mp3', 'alice', `wrong-${i}`), undefined, { from })).status, 401);
    const bob = await sourceRequest(station.port, sourceHead('/radio.mp3', 'bob', PW.bob), undefined, { from });
    assert.match(bob.text, /may not broadcast into channel radio/);
    assert.equal((await sourceRequest(station.port, sourceHead('/radio.mp3', 'alice', 'wrong-9'), undefined, { from })).status, 401);
    const next = await sourceRequest(station.port, sourceHead('/radio.mp3', 'alice', 'wrong-10'), undefined, { from });
    console.log(`# after 10 failures around bob's sign-in: ${next.status} ${next.text.split('\r\n').pop()}`);
    assert.equal(next.status, 403);
    assert.match(next.text, /too many failed sign-ins from your address/);
  });
});
