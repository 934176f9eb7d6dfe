/**
 * Attack: a signed-in DJ's client sending a hostile chunked body (PUT with
 * Transfer-Encoding: chunked, which Icecast 2.4 accepts): an endless size
 * line, a size past 32 bits, a size that is not hex, a chunk longer than
 * its size, a megabyte of chunk extensions, an endless trailer, a size line
 * trickled a byte at a time, and real audio followed by a broken frame.
 * Against a real station process: each ends the show with its reason and
 * puts nothing of the framing on air, memory stays bounded, the other
 * channel never notices, and /health answers throughout.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Listener } from '../helpers/listener.js';
import { decodeMp3, silentRuns } from '../helpers/media.js';
import { basicAuth, ffmpegDj } from '../helpers/source-client.js';
import type { StationProcess } from '../helpers/station-process.js';
import { twoChannelStation } from '../helpers/two-channels.js';

const PW = 'dana-right-password';
const HEAD = `PUT /radio.mp3 HTTP/1.1\r\nHost: x\r\n${basicAuth('dana', PW)}Content-Type: audio/mpeg\r\nTransfer-Encoding: chunked\r\n\r\n`;

/** A signed-in chunked source: the head, then `body` as `write` sends it; resolves when the station closes the connection. */
function hostileSource(port: number, write: (s: net.Socket) => Promise<void> | void): Promise<{ answer: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let answer = '';
    s.on('connect', () => {
      s.write(HEAD);
      void write(s);
    });
    s.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => resolve({ answer, ms: Date.now() - t0 }));
  });
}

/** Writes `buf` in pieces of `size` bytes while the socket is open and accepts them. */
async function pour(s: net.Socket, buf: Buffer, size = 16 * 1024): Promise<void> {
  for (let i = 0; i < buf.length && !s.destroyed; i += size) {
    if (!s.write(buf.subarray(i, i + size))) await new Promise((r) => s.once('drain', r).once('close', r));
  }
}

describe('adversarial: hostile chunked bodies from a signed-in DJ', { timeout: 240_000 }, () => {
  let station: StationProcess;
  let radio: Listener;
  let other: Listener;
  let dj: ChildProcess | null = null;

  before(async () => {
    ({ station, radio, other } = await twoChannelStation('chunked-attack', {
      seconds: 180,
      djs: [{ user: 'dana', channel: 'radio', password: PW }],
      env: { LIVE_SOURCE_TIMEOUT_S: '3' },
    }));
  });

  after(async () => {
    dj?.kill('SIGKILL');
    radio?.close();
    other?.close();
    await station?.close();
  });

  test('each hostile body ends its show with the reason; the framing never reaches the air; memory bounded; the other channel untouched', async () => {
    const fromRadio = radio.bytes;
    const fromOther = other.bytes;
    const rssBefore = station.rssMb();
    const attacks: { name: string; reason: RegExp; write: (s: net.Socket) => Promise<void> | void }[] = [
      { name: 'an endless size line', reason: /chunk line over 1024 bytes/, write: (s) => pour(s, Buffer.alloc(4 * 1024 * 1024, 'f')) },
      { name: 'a size past 32 bits', reason: /not a chunk size line/, write: (s) => void s.write('ffffffffffffffff\r\n') },
      { name: 'a size that is not hex', reason: /not a chunk size line/, write: (s) => void s.write('-10\r\nabc') },
      { name: 'a chunk longer than its size', reason: /longer than its size line says/, write: (s) => void s.write('4\r\nABCDEFGH\r\n') },
      { name: 'a megabyte of extensions', reason: /chunk line over 1024 bytes/, write: (s) => pour(s, Buffer.from(`10;${'x'.repeat(1024 * 1024)}`)) },
      { name: 'an endless trailer', reason: /trailer of more than 32 lines/, write: (s) => pour(s, Buffer.from(`0\r\n${'X-A: b\r\n'.repeat(200_000)}`)) },
      {
        name: 'a size line a byte at a time',
        reason: /source timeout|no decodable audio/,
        write: async (s) => {
          for (let i = 0; i < 40 && !s.destroyed; i++) {
            s.write('0');
            await new Promise((r) => setTimeout(r, 250));
          }
        },
      },
    ];
    const results: string[] = [];
    for (const [i, attack] of attacks.entries()) {
      const ended = station.when(attack.name, () => station.find(/live: dana off/)[i], 20_000);
      const { answer, ms } = await hostileSource(station.port, attack.write);
      const off = await ended;
      results.push(`${attack.name}: ${String(off.reason)} (${ms} ms)`);
      assert.match(answer, /^HTTP\/1\.0 200 OK/, `${attack.name}: signed in`);
      assert.match(String(off.reason), attack.reason, attack.name);
      assert.ok(ms < 10_000, `${attack.name}: the connection was held ${ms} ms`);
    }
    const rssAfter = station.rssMb();
    const health = await fetch(`${station.url}/health`);
    const silenceOther = Math.max(0, ...silentRuns(await decodeMp3(other.audio().subarray(fromOther)), 44100, 3).map((r) => r.ms));
    const silenceRadio = Math.max(0, ...silentRuns(await decodeMp3(radio.audio().subarray(fromRadio)), 44100, 3).map((r) => r.ms));
    console.log(
      `# ${results.join('; ')}; RSS ${Math.round(rssBefore)} -> ${Math.round(rssAfter)} MB; longest silence: radio ${Math.round(silenceRadio)} ms, other ${Math.round(silenceOther)} ms; /health ${health.status}`,
    );
    assert.equal(health.status, 200);
    assert.ok(station.alive());
    assert.ok(rssAfter - rssBefore < 100, `RSS grew ${Math.round(rssAfter - rssBefore)} MB`);
    assert.equal(silenceOther, 0, 'the other channel never went silent');
    assert.ok(silenceRadio < 50, `radio silent for ${Math.round(silenceRadio)} ms: no show with hostile framing got on air`);
  });

  test('a show on air whose client then sends a broken frame: ended at the break with its reason, the playlist back', async () => {
    const offs = station.find(/live: dana off/).length;
    dj = ffmpegDj('pipe:1', { seconds: 20, freq: 1000 });
    const ended = station.when('the show ended', () => station.find(/live: dana off/)[offs], 30_000);
    const closed = hostileSource(station.port, async (s) => {
      // ffmpeg's MP3, paced in real time, each piece framed as a chunk, until the DJ is heard; then a size line that is not one.
      const onAir = radio.waitForTitle((t) => t === 'dana', 15_000);
      const relay = (d: Buffer): void => void s.write(Buffer.concat([Buffer.from(`${d.length.toString(16)}\r\n`), d, Buffer.from('\r\n')]));
      dj!.stdout!.on('data', relay);
      await onAir;
      dj!.stdout!.off('data', relay);
      s.write('not-a-size\r\n');
    });
    const off = await ended;
    await closed;
    assert.match(String(off.reason), /chunked body is malformed \(not a chunk size line/);
    assert.ok(Number(off.bytesIn) > 4000, `${String(off.bytesIn)} bytes of audio reached the decoder before the break`);
    const showAt = radio.titles.findIndex((t) => t.title === 'dana');
    await radio.when('the playlist back after the show', () => radio.titles.slice(showAt + 1).find((t) => t.title === 'Radio'), 10_000);
    assert.ok(station.alive());
  });
});
