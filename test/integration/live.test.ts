/**
 * Live shows through real source clients: ffmpeg's icecast output (PUT) and
 * ezstream (libshout, with its own title updates) broadcast tones into a
 * channel on the station's own HTTP port; a player-like listener records
 * the channel and the tones are found in the recording, so takeover,
 * titles, hand-back and the show's recording are measured where the
 * listener is. A second channel's listener checks the others never notice.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { hashPassword, writeDjFile } from '../../src/live/accounts.js';
import { startIcecast, type IcecastHandle } from '../helpers/icecast.js';
import { listen, type Listener } from '../helpers/listener.js';
import { decodeMp3, makeTone, silentRuns } from '../helpers/media.js';
import { until } from '../helpers/ports.js';
import { ffmpegDj, type FfmpegDjOptions } from '../helpers/source-client.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

const SR = 44100;
const MUSIC = [440, 660];
const DJ_TONE = 1000;
const PASSWORDS = { alice: 'alice-password-1', bob: 'bob-password-22', carol: 'carol-password-3', mallory: 'mallory-password' };

/** Level of `freq` in 20 ms windows (single-bin DFT, Hann), per window start. */
function toneLevel(pcm: Int16Array, freq: number, windowS = 0.02): Float64Array {
  const n = Math.round(SR * windowS);
  const out = new Float64Array(Math.floor(pcm.length / n));
  for (let k = 0; k < out.length; k++) {
    let re = 0;
    let im = 0;
    for (let i = 0; i < n; i++) {
      const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
      const x = pcm[k * n + i]! * w;
      re += x * Math.cos((2 * Math.PI * freq * i) / SR);
      im += x * Math.sin((2 * Math.PI * freq * i) / SR);
    }
    out[k] = (4 * Math.hypot(re, im)) / n;
  }
  return out;
}

/** First window (seconds) from `fromS` at which `freq` reaches `level`, or null. */
function onset(pcm: Int16Array, freq: number, level: number, fromS = 0): number | null {
  const lv = toneLevel(pcm, freq);
  for (let k = Math.floor(fromS / 0.02); k < lv.length; k++) if (lv[k]! >= level) return k * 0.02;
  return null;
}

/** Audio seconds in the recording -> wall-clock ms it arrived at (128 kbit/s CBR: 16000 bytes a second). */
const arrivedAt = (l: Listener, seconds: number): number => l.arrivalOf(Math.floor(seconds * 16000))!;

/** A DJ's ffmpeg, its tone the one this suite listens for. */
const ffmpegSource = (url: string, opts: FfmpegDjOptions): ChildProcess => ffmpegDj(url, { freq: DJ_TONE, ...opts });

const exited = (p: ChildProcess): Promise<number | null> =>
  p.exitCode !== null ? Promise.resolve(p.exitCode) : new Promise((r) => p.once('exit', (code) => r(code)));

/** A raw source request: the status line and body the station answers with. */
async function rawSource(port: number, head: string, body?: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let got = '';
    s.on('connect', () => {
      s.write(head);
      if (body) s.write(body);
    });
    s.on('data', (d) => {
      got += d.toString('utf8');
    });
    s.on('close', () => resolve({ status: Number(got.split(' ')[1]), text: got }));
    s.on('error', reject);
  });
}

/** The next title matching `match` to arrive after the `seen` titles already received. */
async function nextTitle(
  l: Listener,
  match: (t: string) => boolean,
  seen: number,
  timeoutMs = 10_000,
): Promise<{ title: string; audioOffset: number; at: number }> {
  return l.when(`a title after the first ${seen}`, () => l.titles.slice(seen).find((t) => match(t.title)), timeoutMs);
}

/**
 * A TCP relay in front of the station that notes when each client connects:
 * "within 1 s of connecting" is timed from there, not from a client
 * process's start.
 */
async function connectClock(target: number): Promise<{ port: number; connects: number[]; sourceAt(): number; close(): void }> {
  const connects: number[] = [];
  const heads: { at: number; head: string }[] = [];
  const server = net.createServer((client) => {
    const at = Date.now();
    connects.push(at);
    client.once('data', (d: Buffer) => heads.push({ at, head: d.subarray(0, 4096).toString('latin1') }));
    const up = net.connect({ host: '127.0.0.1', port: target });
    client.pipe(up).pipe(client);
    client.on('error', () => up.destroy());
    up.on('error', () => client.destroy());
    client.on('close', () => up.destroy());
    up.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    connects,
    /** When the connection that carried the source (SOURCE/PUT with credentials) was made: not a client's probes or title updates. */
    sourceAt: () => heads.filter((h) => /^(SOURCE|PUT) /.test(h.head) && /Authorization: Basic/i.test(h.head)).at(-1)!.at,
    close: () => server.close(),
  };
}

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('live shows: DJs broadcasting into a channel', { timeout: 300_000 }, () => {
  let station: Awaited<ReturnType<typeof runStation>>;
  let port: number;
  let dir: string;
  let recordings: string;
  let listener: Listener;
  let other: Listener;
  const feed: {
    type: string;
    at: number;
    show?: { dj: string; end: string | null; recording: string | null; seconds: number | null };
    nowPlaying?: { title: string };
  }[] = [];
  let ws: WebSocket;
  let ice: IcecastHandle;

  before(async () => {
    dir = tempDir('live');
    recordings = tempDir('recordings');
    const media = tempDir('live-media');
    const tracks = [];
    for (const f of MUSIC)
      tracks.push({
        source: 'file',
        path: await makeTone({ file: path.join(media, `m${f}.m4a`), freq: f, seconds: 25, args: ['-c:a', 'aac', '-b:a', '128k'], title: `Tone ${f}` }),
      });
    writePlaylist(dir, 'radio', { name: 'Radio', mount: '/radio.mp3', loudness: false, live: { record: true, deadAirSeconds: 2 }, tracks });
    writePlaylist(dir, 'other', { name: 'Other', mount: '/other.mp3', loudness: false, tracks });
    const djs = path.join(tempDir('djs'), 'djs.json');
    const dayAfter = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][(new Date().getUTCDay() + 2) % 7] as 'mon';
    await writeDjFile(djs, {
      djs: [
        { user: 'alice', channels: ['radio'], hash: await hashPassword(PASSWORDS.alice), timezone: 'UTC' },
        { user: 'bob', channels: ['radio'], hash: await hashPassword(PASSWORDS.bob), timezone: 'UTC' },
        {
          user: 'carol',
          channels: ['radio'],
          hash: await hashPassword(PASSWORDS.carol),
          timezone: 'UTC',
          windows: [{ days: [dayAfter], from: '10:00', to: '11:00' }],
        },
        { user: 'mallory', channels: ['other'], hash: await hashPassword(PASSWORDS.mallory), timezone: 'UTC' },
      ],
    });
    // The channel also goes to a real Icecast: titles must reach it too.
    ice = await startIcecast();
    station = await runStation({
      PLAYLISTS_DIR: dir,
      MEDIA_DIRS: media,
      DJS_FILE: djs,
      RECORDINGS_DIR: recordings,
      LIVE_SOURCE_TIMEOUT_S: '3',
      ICECAST_URL: ice.sourceUrl,
      ICECAST_ADMIN_USER: 'admin',
      ICECAST_ADMIN_PASSWORD: ice.adminPassword,
    });
    port = Number(new URL(station.url).port);
    listener = await listen(`${station.url}/radio.mp3`);
    other = await listen(`${station.url}/other.mp3`);
    ws = new WebSocket(`${station.url.replace('http', 'ws')}/ws?channel=radio`);
    ws.on('message', (d) => feed.push({ ...(JSON.parse(String(d)) as (typeof feed)[number]), at: Date.now() }));
    await listener.when('the playlist on air', () => (listener.titles.some((t) => t.title.startsWith('Tone')) ? true : undefined), 20_000);
  });

  after(async () => {
    ws?.close();
    listener?.close();
    other?.close();
    await station?.close();
    await ice?.kill();
  });

  test('ffmpeg (PUT) takes over within 1 s through a crossfade, titles follow updinfo, the playlist returns with no gap, the show is recorded as aired', async () => {
    const from = listener.bytes;
    const clock = await connectClock(port);
    const dj = ffmpegSource(`icecast://alice:${PASSWORDS.alice}@127.0.0.1:${clock.port}/radio.mp3`, { seconds: 6, name: 'Morning Show' });
    const title = await listener.waitForTitle((t) => t.includes('Morning Show'), 10_000);
    assert.equal(title.title, 'alice - Morning Show', 'before any update, the title names the show and the DJ');
    // A title update as libshout sends it (UTF-8, with the charset named), while the show is on.
    await new Promise((r) => setTimeout(r, 1500));
    const sentAt = Date.now();
    const res = await fetch(`${station.url}/admin/metadata?mode=updinfo&mount=%2Fradio.mp3&song=${encodeURIComponent('演示乐队 - 晨光')}&charset=UTF-8`, {
      headers: { authorization: basic('alice', PASSWORDS.alice) },
    });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /Metadata update successful/);
    const updated = await listener.waitForTitle((t) => t === '演示乐队 - 晨光', 3000);
    const feedTrack = await until('feed track', () => feed.find((m) => m.type === 'track' && m.nowPlaying?.title === '演示乐队 - 晨光'), 3000);
    await until(
      'the title on Icecast',
      async () => ((await ice.status()).find((m) => m.listenurl.endsWith('/radio.mp3'))?.title === '演示乐队 - 晨光' ? true : undefined),
      3000,
      20,
    );
    const icecastMs = Date.now() - sentAt;
    // Wrong credentials for the update: 401, title unchanged.
    const bad = await fetch(`${station.url}/admin/metadata?mode=updinfo&mount=%2Fradio.mp3&song=hijack`, {
      headers: { authorization: basic('alice', 'nope-nope-nope') },
    });
    assert.equal(bad.status, 401);
    assert.equal(await exited(dj), 0, 'the source client ran to its end');
    const back = await nextTitle(listener, (t) => t.startsWith('Tone'), listener.titles.indexOf(updated) + 1);
    await listener.when('a second of playlist after the show', () => (listener.bytes > back.audioOffset + 2 * 16000 ? true : undefined), 10_000);

    const pcm = await decodeMp3(listener.audio().subarray(from));
    const base = from / 16000;
    const steady = Math.max(...toneLevel(pcm, DJ_TONE).slice(0, -1));
    const heard = onset(pcm, DJ_TONE, steady * 0.1);
    assert.ok(heard !== null, 'the DJ is heard');
    clock.close();
    const takeoverMs = arrivedAt(listener, base + heard) - clock.sourceAt();
    // Through a crossfade: the music is still audible while the DJ fades in.
    const musicAtOnset = Math.max(...MUSIC.map((f) => toneLevel(pcm, f)[Math.round(heard / 0.02) + 5] ?? 0));
    const updateMs = updated.at - sentAt;
    const feedMs = feedTrack.at - sentAt;
    // The hand-back: silence at the seam where the DJ's tone ends and the playlist's returns.
    const djEnd = (() => {
      const lv = toneLevel(pcm, DJ_TONE);
      let last = 0;
      for (let k = 0; k < lv.length; k++) if (lv[k]! > steady * 0.1) last = k;
      return (last + 1) * 0.02;
    })();
    const runs = silentRuns(pcm, SR, 1).filter((r) => r.startSec > heard - 2 && r.startSec < djEnd + 2);
    const seam = runs.filter((r) => Math.abs(r.startSec - djEnd) < 0.5);
    console.log(
      `# live takeover ${takeoverMs} ms (connect to first DJ audio at the listener); music still at ${musicAtOnset.toFixed(0)} at the DJ's onset; title update at ICY ${updateMs} ms, feed ${feedMs} ms, Icecast's title by ${icecastMs} ms; silent runs around the show ${JSON.stringify(runs.map((r) => r.ms))}`,
    );
    assert.ok(takeoverMs < 1000, `takeover ${takeoverMs} ms`);
    assert.ok(musicAtOnset > 200, 'the music fades out under the DJ, not cut');
    assert.ok(updateMs < 1000 && feedMs < 1000 && icecastMs < 1000, `update ${updateMs} / ${feedMs} / ${icecastMs} ms`);
    assert.deepEqual(seam, [], 'no silence at the hand-back seam');
    assert.equal(listener.closed, false, 'the listener stayed connected');

    // The feed said live-start and live-end, with the DJ's name.
    const start = feed.find((m) => m.type === 'live-start');
    const end = await until('live-end in the feed', () => feed.find((m) => m.type === 'live-end'), 5000);
    assert.equal(start?.show?.dj, 'alice');
    assert.equal(end.show?.dj, 'alice');
    assert.equal(end.show?.end, 'the DJ disconnected');
    // History: the song the DJ cut into is marked so; the show is listed with its length and recording.
    const detail = (await (await fetch(`${station.url}/api/channels/radio`)).json()) as {
      history: { title: string; end?: string; live?: boolean }[];
      shows: { dj: string; seconds: number; recording: string }[];
    };
    const firstLive = detail.history.findIndex((h) => h.live);
    assert.ok(firstLive >= 0, 'the show is in the history');
    assert.equal(detail.history.slice(firstLive).find((h) => !h.live)?.end, 'interrupted', 'the song the DJ cut into');
    const show = detail.shows[0]!;
    assert.equal(show.dj, 'alice');
    assert.ok(show.seconds > 5 && show.seconds < 8, `show length ${show.seconds} s`);
    // The recording is exactly what the listener received from the DJ's first frame to the playlist's return.
    const file = path.join(recordings, show.recording);
    await until('recording closed', () => (existsSync(file) && readFileSync(file).length > 0 ? true : undefined), 5000);
    const rec = readFileSync(file);
    const at = listener.audio().indexOf(rec.subarray(0, 4096));
    assert.ok(at >= 0, 'the recording starts with bytes the listener received');
    assert.ok(
      listener
        .audio()
        .subarray(at, at + rec.length)
        .equals(rec),
      "and is the listener's stream, byte for byte",
    );
    assert.ok(Math.abs(rec.length / 16000 - show.seconds) < 0.2, `recording ${rec.length / 16000} s vs show ${show.seconds} s`);
    console.log(`# live recording ${show.recording}: ${(rec.length / 16000).toFixed(2)} s, show ${show.seconds} s, identical to the listener's bytes`);
  });

  test('refusals as Icecast gives them; credentials never in logs', async () => {
    const head = (user: string, password: string, extra = 'Content-Type: audio/mpeg\r\n', mount = '/radio.mp3'): string =>
      `SOURCE ${mount} HTTP/1.0\r\nAuthorization: ${basic(user, password)}\r\n${extra}\r\n`;
    const wrong = await rawSource(port, head('alice', 'wrong-password'));
    assert.equal(wrong.status, 401);
    assert.match(wrong.text, /WWW-Authenticate: Basic/);
    assert.equal((await rawSource(port, head('nobody', 'whatever-pass'))).status, 401);
    const carol = await rawSource(port, head('carol', PASSWORDS.carol));
    assert.equal(carol.status, 403);
    assert.match(carol.text, /outside DJ carol's hours/);
    const mallory = await rawSource(port, head('mallory', PASSWORDS.mallory));
    assert.equal(mallory.status, 403);
    assert.equal((await rawSource(port, head('alice', PASSWORDS.alice, ''))).status, 403, 'no Content-Type');
    assert.equal((await rawSource(port, head('alice', PASSWORDS.alice, undefined, '/nowhere.mp3'))).status, 404);
    // The old-client form: user "source", password "user:password".
    const seen = listener.titles.length;
    const busy = ffmpegSource(`icecast://alice:${PASSWORDS.alice}@127.0.0.1:${port}/radio.mp3`, { seconds: 4 });
    await nextTitle(listener, (t) => t === 'alice', seen);
    const second = await rawSource(port, head('source', `bob:${PASSWORDS.bob}`));
    assert.equal(second.status, 403);
    assert.match(second.text, /Mountpoint in use/);
    // And as a real client sees them: ffmpeg told 403 while alice is on, and 401 for a wrong password.
    const refusedBy = async (p: ChildProcess): Promise<{ code: number | null; said: string }> => {
      let said = '';
      p.stderr?.on('data', (d) => (said += String(d)));
      return { code: await exited(p), said };
    };
    const bobFf = await refusedBy(ffmpegSource(`icecast://bob:${PASSWORDS.bob}@127.0.0.1:${port}/radio.mp3`, { seconds: 2 }));
    assert.notEqual(bobFf.code, 0);
    assert.match(bobFf.said, /403/);
    const wrongFf = await refusedBy(ffmpegSource(`icecast://bob:not-his-password@127.0.0.1:${port}/radio.mp3`, { seconds: 2 }));
    assert.notEqual(wrongFf.code, 0);
    assert.match(wrongFf.said, /401/);
    await exited(busy);
    await nextTitle(listener, (t) => t.startsWith('Tone'), seen + 1);
    const text = JSON.stringify(station.logs.lines);
    for (const p of Object.values(PASSWORDS)) assert.ok(!text.includes(p), 'a password in the logs');
    assert.ok(!text.includes(Buffer.from(`alice:${PASSWORDS.alice}`).toString('base64')), 'credentials in the logs');
  });

  test('undecodable input, dead air and a stalled connection hand back to the playlist, each logged with the DJ', async () => {
    // Not audio at all, labelled as MP3.
    const junk = Buffer.alloc(64 * 1024, 'this is not an mp3 stream. ');
    const sent = rawSource(port, `PUT /radio.mp3 HTTP/1.1\r\nAuthorization: ${basic('alice', PASSWORDS.alice)}\r\nContent-Type: audio/mpeg\r\n\r\n`, junk);
    const dropped = await until(
      'junk dropped',
      () => station.logs.find(/live: alice off/).find((l) => /no decodable audio|could not be decoded/.test(String(l.reason))),
      10_000,
    );
    assert.equal(dropped.dj, 'alice');
    await sent;
    // Silence from the DJ: after live.deadAirSeconds (2 s) the playlist is back.
    const from = listener.bytes;
    const seen = listener.titles.length;
    const quiet = ffmpegSource(`icecast://bob:${PASSWORDS.bob}@127.0.0.1:${port}/radio.mp3`, { seconds: 20, silence: true });
    await nextTitle(listener, (t) => t === 'bob', seen);
    const back = await nextTitle(listener, (t) => t.startsWith('Tone'), seen + 1);
    const reason = await station.logs.when('dead air logged', () => station.logs.find(/live: bob off/)[0], 5000);
    assert.match(String(reason.reason), /dead air: silent for 2 s/);
    quiet.kill('SIGKILL');
    await listener.when('a second of playlist', () => (listener.bytes > back.audioOffset + 16000 ? true : undefined), 10_000);
    const pcm = await decodeMp3(listener.audio().subarray(from));
    const longest = Math.max(0, ...silentRuns(pcm, SR, 3).map((r) => r.ms));
    console.log(`# live dead air: longest silence heard ${longest.toFixed(0)} ms (live.deadAirSeconds 2)`);
    assert.ok(longest > 500 && longest < 2600, `silence of ${longest} ms`);
    // A connection that sends a little, then nothing: the same.
    const beforeStall = listener.titles.length;
    const stall = net.connect({ host: '127.0.0.1', port });
    const real = ffmpegSource('pipe:1', { seconds: 1, realTime: false });
    const mp3: Buffer[] = [];
    real.stdout?.on('data', (d: Buffer) => mp3.push(d));
    await exited(real);
    stall.write(`SOURCE /radio.mp3 HTTP/1.0\r\nAuthorization: ${basic('alice', PASSWORDS.alice)}\r\nContent-Type: audio/mpeg\r\n\r\n`);
    stall.write(Buffer.concat(mp3));
    const closed = new Promise((r) => stall.on('close', r));
    stall.on('error', () => undefined);
    // Read what the station answers, or its closing the connection is never seen.
    stall.resume();
    await closed;
    const stalled = await until(
      'stall logged',
      () => station.logs.find(/live: alice off/).find((l) => /dead air: no audio|source timeout/.test(String(l.reason))),
      10_000,
    );
    assert.equal(stalled.dj, 'alice');
    await nextTitle(listener, (t) => t.startsWith('Tone'), beforeStall + 1);
  });

  /** A real client plays a 5 s tagged MP3 into the channel: takeover time, its own title update, and the hand-back, at the listener. */
  async function clientShow(name: string, start: (clientPort: number, song: string, work: string) => ChildProcess): Promise<void> {
    const clock = await connectClock(port);
    const work = tempDir('client');
    const song = await makeTone({
      file: path.join(work, 'set.mp3'),
      freq: DJ_TONE,
      seconds: 5,
      args: ['-c:a', 'libmp3lame', '-b:a', '128k', '-id3v2_version', '3'],
      title: '夜曲 Nocturne',
      artist: 'DJ Bob',
    });
    const from = listener.bytes;
    const seen = listener.titles.length;
    const client = start(clock.port, song, work);
    let err = '';
    client.stderr?.on('data', (d) => (err += String(d)));
    client.stdout?.on('data', (d) => (err += String(d)));
    const titled = await nextTitle(listener, (t) => t.includes('Nocturne'), seen).catch((e: Error) => {
      throw new Error(`${e.message}; ${name} said: ${err.slice(-1500)}`);
    });
    assert.equal(titled.title, 'DJ Bob - 夜曲 Nocturne', "the title the client sent from the file's tags");
    await exited(client);
    const back = await nextTitle(listener, (t) => t.startsWith('Tone'), listener.titles.indexOf(titled) + 1);
    await listener.when('a second of playlist', () => (listener.bytes > back.audioOffset + 16000 ? true : undefined), 10_000);
    const pcm = await decodeMp3(listener.audio().subarray(from));
    const lv = toneLevel(pcm, DJ_TONE);
    const steady = Math.max(...lv);
    const heard = onset(pcm, DJ_TONE, steady * 0.1)!;
    clock.close();
    const takeoverMs = arrivedAt(listener, from / 16000 + heard) - clock.sourceAt();
    let last = 0;
    for (let k = 0; k < lv.length; k++) if (lv[k]! > steady * 0.1) last = k;
    const seam = silentRuns(pcm, SR, 1).filter((r) => Math.abs(r.startSec - (last + 1) * 0.02) < 0.5);
    console.log(
      `# live ${name}: takeover ${takeoverMs} ms (${clock.connects.length} connections), title "${titled.title}", hand-back silence ${JSON.stringify(seam.map((r) => r.ms))}`,
    );
    assert.ok(takeoverMs < 1000, `takeover ${takeoverMs} ms`);
    assert.deepEqual(seam, [], 'no silence at the hand-back');
  }

  test('ezstream (libshout) goes live and back; its title updates reach listeners', async () => {
    await clientShow('ezstream', (clientPort, song, work) => {
      writeFileSync(path.join(work, 'list.txt'), `${song}\n`);
      const xml = path.join(work, 'ezstream.xml');
      writeFileSync(
        xml,
        `<?xml version="1.0" encoding="UTF-8"?>
<ezstream>
  <servers><server><name>default</name><protocol>HTTP</protocol><hostname>127.0.0.1</hostname><port>${clientPort}</port><user>bob</user><password>${PASSWORDS.bob}</password><reconnect_attempts>0</reconnect_attempts></server></servers>
  <streams><stream><mountpoint>/radio.mp3</mountpoint><format>MP3</format><stream_name>Bob's Night Set</stream_name></stream></streams>
  <intakes><intake><type>playlist</type><filename>${path.join(work, 'list.txt')}</filename><stream_once>Yes</stream_once></intake></intakes>
</ezstream>
`,
      );
      chmodSync(xml, 0o600);
      return spawn('ezstream', ['-c', xml], { stdio: ['ignore', 'ignore', 'pipe'] });
    });
  });

  test("Liquidsoap's output.icecast goes live and back; its title updates reach listeners", async () => {
    await clientShow('liquidsoap', (clientPort, song, work) => {
      const script = path.join(work, 'dj.liq');
      writeFileSync(
        script,
        [
          'settings.init.allow_root.set(true)',
          'settings.log.stdout.set(true)',
          'settings.log.file.set(false)',
          `s = once(single("${song}"))`,
          `output.icecast(%mp3(bitrate=128, samplerate=44100, stereo=true), host="127.0.0.1", port=${clientPort}, user="bob", password="${PASSWORDS.bob}", mount="/radio.mp3", name="Liq Night", fallible=true, on_stop=shutdown, s)`,
        ].join('\n'),
      );
      return spawn('liquidsoap', [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    });
  });

  test('the other channel never noticed', async () => {
    const pcm = await decodeMp3(other.audio());
    const longest = Math.max(0, ...silentRuns(pcm, SR, 3).map((r) => r.ms));
    assert.ok(other.bytes > 15 * 16000, 'the other channel played throughout');
    assert.equal(other.closed, false);
    assert.ok(longest < 50, `the other channel had ${longest} ms of silence`);
  });
});
