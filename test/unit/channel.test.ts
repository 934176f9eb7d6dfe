import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { playlistSchema, type Track } from '../../src/config/playlist.js';
import type { TrackInfo } from '../../src/acquire/track-info.js';
import { Channel, type ChannelStatus } from '../../src/playout/channel.js';
import type { Timers } from '../../src/kernel/lifecycle.js';
import { FakeFeed, FakeSource, fakeSong } from '../helpers/fake-songs.js';
import { Ear, FRAME, PassThroughEncoding } from '../helpers/fake-channel.js';

function setup(songs: ReturnType<typeof fakeSong>[], extra: Record<string, unknown> = {}, opts: { leadMs?: number } = {}) {
  const clock = { t: 0 };
  const every: (() => void)[] = [];
  /** The period each running `every` was asked for (the fake clock itself ticks every 50 ms). */
  const periods = new Map<() => void, number>();
  const after: { at: number; fn: () => void }[] = [];
  const timers: Timers = {
    every(ms, fn) {
      every.push(fn);
      periods.set(fn, ms);
      return () => {
        every.splice(every.indexOf(fn), 1);
        periods.delete(fn);
      };
    },
    after(ms, fn) {
      const entry = { at: clock.t + ms, fn };
      after.push(entry);
      return () => after.splice(after.indexOf(entry), 1);
    },
  };
  const encodings: PassThroughEncoding[] = [];
  const renditionEncodings: PassThroughEncoding[] = [];
  const source = new FakeSource(songs);
  const playlist = playlistSchema.parse({ name: 'Test', mount: '/test.mp3', loudness: false, tracks: [], ...extra });
  const channel = new Channel({
    id: 'test',
    playlist,
    source,
    startEncoding: (o) => {
      const e = new PassThroughEncoding(o);
      encodings.push(e);
      return e;
    },
    startRendition: () => (o) => {
      const e = new PassThroughEncoding(o);
      renditionEncodings.push(e);
      return e;
    },
    logger: pino({ level: 'silent' }),
    leadMs: opts.leadMs ?? 200,
    now: () => clock.t,
    timers,
    deadAirMs: 2000,
  });
  const audio: number[] = [];
  const titles: { key: string; atSample: number }[] = [];
  /** Off: audio is not recorded (a sweep skips what it does not look at). */
  const recording = { on: true };
  channel.on('audio', (b: Buffer) => {
    if (!recording.on) return;
    // The left channel's samples; read by hand (not readInt16LE), as the crossfade sweeps record minutes of audio.
    for (let i = 0; i < b.length; i += 4) audio.push(((b[i]! | (b[i + 1]! << 8)) << 16) >> 16);
  });
  channel.on('track', (np: TrackInfo) => titles.push({ key: np.key, atSample: audio.length }));
  /** Run the clock forward `ms`, ticking every 50 ms and firing timers due. */
  const run = (ms: number) => {
    for (const end = clock.t + ms; clock.t < end;) {
      clock.t += 50;
      for (const a of after.filter((x) => x.at <= clock.t)) {
        after.splice(after.indexOf(a), 1);
        a.fn();
      }
      for (const fn of [...every]) fn();
    }
  };
  const running = () => [...periods.values()];
  return { channel, source, clock, run, audio, titles, encodings, renditionEncodings, recording, running };
}

describe('channel (fake clock, fake songs, pass-through encoder)', () => {
  test("a rendition gets the channel's very samples and titles at the same places; its encoder failing leaves the channel alone", () => {
    const a = fakeSong(20_000, (i) => 1 + (i % 500));
    const b = fakeSong(30_000, -700);
    const { channel, run, audio, titles, renditionEncodings } = setup([a, b], { renditions: [{ codec: 'aac', bitrate: 64, mount: '/test.aac' }] });
    const [rendition] = channel.renditions;
    assert.ok(rendition);
    const heard: number[] = [];
    const named: { key: string; atSample: number }[] = [];
    rendition.on('audio', (chunk: Buffer) => {
      for (let i = 0; i < chunk.length; i += 4) heard.push(chunk.readInt16LE(i));
    });
    rendition.on('track', (np: TrackInfo) => named.push({ key: np.key, atSample: heard.length }));
    channel.start();
    run(1500);
    assert.ok(heard.length > 44_100, `the rendition played (${heard.length} samples)`);
    assert.deepEqual(heard, audio.slice(0, heard.length), 'the same samples as the channel');
    assert.deepEqual(named, titles, 'the same titles at the same samples');
    assert.equal(rendition.nowPlaying?.key, channel.nowPlaying?.key);
    // Its encoder dies: the channel plays on; the rendition's keeper starts another and it plays on too.
    const before = audio.length;
    renditionEncodings[0]!.fail();
    run(1000);
    assert.ok(audio.length - before > 40_000, 'the channel did not wait');
    assert.equal(renditionEncodings.length, 2, 'a new rendition encoder');
    assert.equal(rendition.encoderRestarts, 1);
    const after = heard.length;
    run(500);
    assert.ok(heard.length - after > 15_000, 'the rendition plays again');
  });

  test('built idle; on start it plays its songs back to back at real-time pace, titles at their first sample', () => {
    const a = fakeSong(20_000, (i) => 1 + (i % 500));
    const b = fakeSong(30_000, -700);
    const { channel, run, audio, titles } = setup([a, b]);
    // Each chunk says where it starts in the stream; each title where its song's first frame is.
    let sent = 0;
    let misplaced = 0;
    channel.on('audio', (chunk: Buffer, pos: number) => {
      if (Math.round(pos * 44100) !== sent) misplaced += 1;
      sent += chunk.length / 4;
    });
    const positions: number[] = [];
    channel.on('track', (np: { streamPos?: number }) => positions.push(np.streamPos!));
    assert.equal(channel.status, 'idle');
    run(1000);
    assert.equal(audio.length, 0, 'nothing before start');
    channel.start();
    run(2000);
    assert.equal(channel.status, 'on-air');
    // Real time plus the 200 ms lead, in whole frames.
    const expected = 2 * 44100 + 0.2 * 44100;
    assert.ok(Math.abs(audio.length - expected) <= FRAME, `${audio.length} samples sent for 2 s`);
    const lat = audio.findIndex((v) => v !== 0);
    assert.ok(lat > 0 && lat < 200, `limiter delay ${lat}`);
    for (let i = 0; i < 20_000; i++) assert.equal(audio[lat + i], 1 + (i % 500));
    for (let i = 20_000; i < 50_000; i++) assert.equal(audio[lat + i], -700);
    assert.equal(audio[lat + 50_000], 0, 'silence once the list is out');
    assert.deepEqual(
      titles.map((t) => t.key),
      [a.info.key, b.info.key],
    );
    // Each title right before the frame carrying the song's first sample.
    assert.equal(titles[0]!.atSample, Math.floor(lat / FRAME) * FRAME);
    assert.equal(titles[1]!.atSample, Math.floor((lat + 20_000) / FRAME) * FRAME);
    assert.equal(misplaced, 0, 'every chunk starts where the last ended');
    assert.deepEqual(
      positions.map((p) => Math.round(p * 44100)),
      titles.map((t) => t.atSample),
      'streamPos is the sample the title goes out at',
    );
  });

  test('crossfade from the playlist: the title changes mid-overlap', () => {
    const a = fakeSong(2 * 44100, 8000);
    const b = fakeSong(2 * 44100, 8000);
    const { channel, run, titles, audio } = setup([a, b], { crossfade: 1 });
    channel.start();
    run(4000);
    const lat = audio.findIndex((v) => v !== 0);
    assert.equal(titles[1]!.atSample, Math.floor((lat + 44100 + 22050) / FRAME) * FRAME);
    // Equal power over equal levels: the middle of the overlap is 8000 * 2 * cos(pi/4) = 11314 (the ceiling is far).
    assert.ok(Math.abs(audio[lat + 44100 + 22050]! - 11314) <= 1, `mid-overlap ${audio[lat + 44100 + 22050]}`);
  });

  test('skip fades out and the next title follows; the encoder dying loses no title; close is idempotent', async () => {
    const a = fakeSong(100 * 44100, 5000);
    const b = fakeSong(100 * 44100, 6000);
    const { channel, source, run, titles, encodings } = setup([a, b]);
    const statuses: ChannelStatus[] = [];
    channel.on('status', (s: ChannelStatus) => statuses.push(s));
    channel.start();
    run(1000);
    channel.skip();
    // The encoder dies before b's title frame went out: its restart announces b.
    encodings[0]!.fail();
    run(2000);
    assert.equal(channel.encoderRestarts, 1);
    assert.equal(encodings.length, 2);
    assert.deepEqual(
      titles.map((t) => t.key),
      [a.info.key, b.info.key],
    );
    assert.deepEqual(
      source.ends.map((e) => e.end.how),
      ['stopped'],
    );
    await Promise.all([channel.close(), channel.close()]);
    await channel.close();
    assert.deepEqual(statuses, ['on-air', 'closing', 'closed']);
    assert.deepEqual(
      source.ends.map((e) => e.end.how),
      ['stopped', 'stopped'],
    );
  });

  test('destroy stops at once: songs off the air, the encoder killed, idempotent', () => {
    const a = fakeSong(100 * 44100, 5000);
    const { channel, source, run, encodings } = setup([a]);
    channel.start();
    run(500);
    channel.destroy();
    channel.destroy();
    assert.equal(channel.status, 'closed');
    assert.equal(encodings[0]!.destroyed, true);
    assert.deepEqual(
      source.ends.map((e) => e.end.how),
      ['stopped'],
    );
    const sent = channel.secondsSent;
    run(1000);
    assert.equal(channel.secondsSent, sent, 'the clock stopped');
  });

  test('no song at all: silence at full rate, and dead air is reported once, then its end', () => {
    const { channel, run, audio } = setup([]);
    const dead: boolean[] = [];
    channel.on('dead-air', (e: { dead: boolean }) => dead.push(e.dead));
    channel.start();
    run(3000);
    assert.ok(audio.length >= 3 * 44100, `${audio.length} samples`);
    assert.ok(audio.every((v) => v === 0));
    assert.deepEqual(dead, [true]);
    assert.ok(channel.deadAirSeconds >= 2);
  });
});

describe('channel with a live show (fake clock, fake DJ feed)', () => {
  test('a DJ takes over through a 1 s fade, is heard to the sample, retitles, and hands back to the next song with no gap; history and events say so', () => {
    const a = fakeSong(100 * 44100, 5000);
    const b = fakeSong(100 * 44100, -3000);
    const { channel, run, audio, titles } = setup([a, b]);
    const shown: string[] = [];
    channel.on('track', (np: TrackInfo) => shown.push(np.artist ? `${np.artist} - ${np.title}` : np.title));
    const events: { type: string; dj: string; title: string; end: string | null }[] = [];
    channel.on('live-start', (s: { dj: string; title: string; end: string | null }) => events.push({ type: 'start', ...s }));
    channel.on('live-end', (s: { dj: string; title: string; end: string | null }) => events.push({ type: 'end', ...s }));
    channel.start();
    run(1000);
    // Three seconds of the DJ's audio arrive, then they leave.
    const dj = new FakeFeed(3 * 44100, () => 7000);
    channel.djComing(true);
    assert.equal(channel.goLive({ dj: 'dj1', name: 'Night Show', feed: dj, gainDb: 0 }), true);
    run(1500);
    assert.equal(channel.retitle('Artist - Song'), true);
    run(4000);
    assert.deepEqual(
      titles.map((t) => t.key),
      [a.info.key, 'live:dj1', 'live:dj1', b.info.key],
    );
    assert.deepEqual(shown, [a.info.title, 'dj1 - Night Show', 'Artist - Song', b.info.title]);
    const liveAt = titles[1]!.atSample;
    // Through the fade the song and the show mix; after it, the show alone, exactly, up to the next song's first sample.
    const handBack = audio.indexOf(-3000, liveAt);
    let first = handBack;
    while (audio[first - 1] === 7000) first--;
    const fade = first - liveAt;
    assert.ok(fade > 44100 - FRAME && fade <= 44100 + FRAME, `the show alone ${fade} samples after its title (the 1 s fade, titles on frame boundaries)`);
    // The show plays whole: its 3 s from the takeover point, then the next song at once.
    const takeoverSample = first - 44100;
    assert.equal(liveAt, Math.floor(takeoverSample / FRAME) * FRAME, "the show's title with the frame carrying its first sample");
    // Equal power mid-fade: 5000 cos(pi/4) + 7000 sin(pi/4) = 8485.
    assert.ok(Math.abs(audio[takeoverSample + 22050]! - 8485) <= 2, `mid-fade ${audio[takeoverSample + 22050]}`);
    // (Within 4 samples: the fade's last few already round to the show's own value, so "alone" is found that early.)
    assert.ok(
      Math.abs(handBack - takeoverSample - 3 * 44100) <= 4,
      `${handBack - takeoverSample} samples of the show: every one the DJ sent, no gap before the next song`,
    );
    assert.equal(titles[3]!.atSample, Math.floor(handBack / FRAME) * FRAME, 'the next title with its first sample');
    assert.equal(channel.history.find((h) => h.key === a.info.key)?.end, 'interrupted');
    assert.deepEqual(
      events.map((e) => [e.type, e.dj, e.title, e.end]),
      [
        ['start', 'dj1', 'Night Show', null],
        ['end', 'dj1', 'Night Show', 'the DJ disconnected'],
      ],
    );
    assert.ok(channel.shows[0]!.endedAt !== null, 'the show is closed in the history');
    // Its length is the audio listeners heard from its title to the next song's (this fake clock's wall time is ~0).
    const heard = (titles[3]!.atSample - titles[1]!.atSample) / 44100;
    assert.ok(heard > 2.9 && heard < 3.1, `${heard} s between the titles`);
    assert.equal(channel.shows[0]!.seconds, Math.round(heard * 10) / 10);
    assert.equal(channel.liveShow, null);
  });

  test('the clock ticks every 250 ms on songs, every 100 ms from the moment a DJ connects until the show is over', () => {
    const a = fakeSong(100 * 44100, 5000);
    const { channel, run, titles, running } = setup([a], {}, { leadMs: 500 });
    channel.start();
    run(1000);
    assert.deepEqual(running(), [250], 'songs only: calm ticks');
    channel.djComing(true);
    assert.deepEqual(running(), [100], 'a DJ signed in: live ticks at once, one clock');
    channel.djComing(false);
    assert.deepEqual(running(), [250], 'the DJ went away before going on air');
    channel.djComing(true);
    assert.equal(channel.goLive({ dj: 'dj3', name: undefined, feed: new FakeFeed(2 * 44100, () => 7000), gainDb: 0 }), true);
    run(1500);
    assert.deepEqual(running(), [100], 'on air');
    assert.equal(titles.at(-1)?.key, 'live:dj3');
    run(4000);
    assert.equal(channel.liveShow, null, 'the show is over');
    assert.deepEqual(running(), [250], 'songs again: calm ticks');
    channel.destroy();
    assert.deepEqual(running(), [], 'no clock left running');
  });

  test('a DJ taking over while the next song is taken but its decoder not yet started still goes on air (the song waiting is given up)', () => {
    // The first song ends; the next is handed out but gives no audio yet (a slow decoder start): the mixer holds it.
    const a = fakeSong(44100, 5000);
    const slow = fakeSong(100 * 44100, -3000, { produced: 0 });
    const { channel, run, source, titles } = setup([a, slow]);
    channel.start();
    run(1500);
    assert.deepEqual(
      titles.map((t) => t.key),
      [a.info.key],
      'the next song is held, not on air',
    );
    const dj = new FakeFeed(10 * 44100, () => 7000);
    channel.djComing(true);
    assert.equal(channel.goLive({ dj: 'dj2', name: undefined, feed: dj, gainDb: 0 }), true);
    slow.feed.produced = slow.feed.total; // its decoder catches up: too late, it was given up
    run(1000);
    assert.deepEqual(
      titles.map((t) => t.key),
      [a.info.key, 'live:dj2'],
    );
    assert.deepEqual(source.ends.find((e) => e.song === slow)?.end, { how: 'stopped' });
  });

  test('a show abandoned before its audio was ever heard closes its record, and goLive on a closed channel is refused', async () => {
    const a = fakeSong(100 * 44100, 5000);
    const { channel, run } = setup([a]);
    channel.start();
    run(500);
    await channel.close();
    assert.equal(channel.goLive({ dj: 'late', name: undefined, feed: new FakeFeed(44100, () => 1), gainDb: 0 }), false);
  });
});

describe('control travels through the graph', () => {
  test("during a live show the playlist's next song is warmed up (its decoder started) before the DJ leaves", () => {
    const a = fakeSong(100 * 44100, 5000);
    const b = fakeSong(100 * 44100, -3000);
    const { channel, run, source } = setup([a, b]);
    channel.start();
    run(1000);
    // A show whose client keeps sending: 30 s decoded so far, more to come, so its end is not known until the DJ leaves.
    const dj = new FakeFeed(60 * 44100, () => 7000, 30 * 44100);
    channel.djComing(true);
    assert.equal(channel.goLive({ dj: 'dj1', name: undefined, feed: dj, gainDb: 0 }), true);
    run(1500);
    const before = source.warmUps;
    run(5000);
    const during = source.warmUps - before;
    assert.equal(channel.liveShow?.dj, 'dj1', 'the show is on');
    // The channel prepares on every 50 ms tick; the live switch warms the next song up each time while the show is on.
    assert.ok(during >= 90, `${during} warm-ups in 5 s on air (the side door gave 0)`);
  });
});

/**
 * Every moment around a 3 s crossfade, 50 ms apart: a (6 s) overlaps b from
 * 3 s to 6 s of a, and the sweep runs from just before to just after. At
 * each, a fresh channel playing a, b, c on a fake clock, run to that moment,
 * with an Ear on what follows.
 */
function* crossfadeMoments() {
  for (let at = 2800; at <= 6200; at += 50) {
    const a = fakeSong(6 * 44100, 5000, { seconds: 6 });
    const b = fakeSong(20 * 44100, -3000, { seconds: 20 });
    const c = fakeSong(20 * 44100, 1000, { seconds: 20 });
    const rig = setup([a, b, c], { crossfade: 3 });
    rig.recording.on = false;
    rig.channel.start();
    rig.run(at);
    const ear = new Ear(2 * 44100);
    rig.channel.on('audio', (pcm: Buffer) => ear.hear(pcm));
    yield { at, a, b, c, ear, ...rig };
  }
}

describe('control at any moment of a crossfade (fake clock, 50 ms steps)', () => {
  test('a skip anywhere in a 3 s crossfade skips the song titled; the incoming one, if not yet titled, plays next from its start', () => {
    const failures: string[] = [];
    let givenBack = 0;
    for (const { at, a, b, c, channel, source, run, titles, ear } of crossfadeMoments()) {
      const titled = titles.at(-1)?.key;
      channel.skip();
      run(4000);
      givenBack += source.givenBack.length;
      const expected = titled === a.info.key ? b : c;
      const lastTitle = titles.at(-1)?.key;
      const wrong = ear.tailNot(expected.feed.value(0));
      const gap = ear.longestZeroRun;
      const bHeard = titles.some((t) => t.key === b.info.key);
      if (lastTitle !== expected.info.key || wrong > 0 || gap > 100 || !bHeard)
        failures.push(
          `at ${at} ms (titled ${titled}): last title ${lastTitle}, expected ${expected.info.key}; ${wrong} samples of the last 2 s not it; longest silence ${gap} samples; b titled: ${bHeard}`,
        );
    }
    assert.deepEqual(failures, []);
    assert.ok(givenBack > 0, 'some moments cut b before its title went up');
  });

  test('a DJ taking over anywhere in a 3 s crossfade stays on air while the client sends; after it, a song cut while fading in comes back, with no gap', () => {
    const failures: string[] = [];
    for (const { at, b, c, channel, source, run, titles, ear } of crossfadeMoments()) {
      // A 6 s show whose client is still sending: 4.5 s decoded so far, more to come.
      const dj = new FakeFeed(6 * 44100, () => 7000, 4.5 * 44100);
      channel.djComing(true);
      channel.goLive({ dj: 'dj', name: undefined, feed: dj, gainDb: 0 });
      run(4000);
      // After the takeover fade (1 s, plus what was queued), the show alone: 7000 in every frame of the last 2 s.
      const notShow = ear.tailNot(7000);
      const live = channel.liveShow;
      const titleThen = titles.at(-1)?.key;
      if (!live || notShow > 0 || titleThen !== 'live:dj')
        failures.push(`at ${at} ms: on air ${live ? 'yes' : 'no'}, ${notShow} samples of the last 2 s not the show's, last title ${titleThen}`);
      // The client sends the rest and leaves: the playlist follows.
      dj.produced = dj.total;
      run(5000);
      const cutWhileJoining = source.givenBack.some((s) => s.info.key === b.info.key);
      const expected = cutWhileJoining ? b : c;
      const keys = titles.map((t) => t.key);
      const afterShow = keys.slice(keys.lastIndexOf('live:dj') + 1);
      const wrong = ear.tailNot(expected.feed.value(0), 44100);
      const gap = ear.longestZeroRun;
      const bHeard = keys.includes(b.info.key);
      if (afterShow[0] !== expected.info.key || wrong > 0 || gap > 100 || !bHeard)
        failures.push(
          `at ${at} ms: after the show ${afterShow.join(',')}, expected ${expected.info.key}; ${wrong} samples of the last 1 s not it; longest silence ${gap}; b titled: ${bHeard}`,
        );
    }
    assert.deepEqual(failures, []);
  });

  test('a hard block start, a request and an edit anywhere in a 3 s crossfade: titles name what is heard, no song lost, no gap', () => {
    const failures: string[] = [];
    for (const { at, b, c, channel, source, run, titles, ear } of crossfadeMoments()) {
      // A hard start: what plays fades out over 0.5 s and the source's next song follows; b, if cut while fading in, is given back.
      source.emit('cut', 'News');
      run(3000);
      const expected = source.givenBack.some((s) => s.info.key === b.info.key) ? b : c;
      const keys = titles.map((t) => t.key);
      if (keys.at(-1) !== expected.info.key || ear.tailNot(expected.feed.value(0), 44100) > 0 || ear.longestZeroRun > 100 || !keys.includes(b.info.key))
        failures.push(`hard start at ${at} ms: titles ${keys.join(',')}, expected last ${expected.info.key}; longest silence ${ear.longestZeroRun}`);
      channel.destroy();
    }
    for (const { at, a, b, channel, source, run, titles, ear } of crossfadeMoments()) {
      // A request: after the song joining (b), before the list goes on; nothing is cut.
      const r = fakeSong(20 * 44100, 2500, { seconds: 20 });
      source.requestable.set('asked.mp3', r);
      channel.enqueue({ source: 'file', path: 'asked.mp3' } as Track);
      // Past the overlap's end wherever it began: the last second is b alone.
      run(4500);
      const keys = titles.map((t) => t.key);
      const heard = ear.tailNot(b.feed.value(0), 44100) === 0;
      if (!keys.includes(a.info.key) || keys.at(-1) !== b.info.key || !heard || ear.longestZeroRun > 100 || source.givenBack.length > 0)
        failures.push(`request at ${at} ms: titles ${keys.join(',')}; b heard: ${heard}; longest silence ${ear.longestZeroRun}`);
      const next = channel.next as TrackInfo | null;
      if (next?.key !== r.info.key) failures.push(`request at ${at} ms: next after b is ${next?.key}, not the request`);
      channel.destroy();
    }
    for (const { at, b, channel, source, run, titles, ear } of crossfadeMoments()) {
      // An edit (a shorter crossfade for the next seam): the overlap under way keeps its curve; nothing is cut.
      channel.update(playlistSchema.parse({ name: 'Test', mount: '/test.mp3', loudness: false, tracks: [], crossfade: 1 }));
      run(4500);
      const keys = titles.map((t) => t.key);
      if (keys.at(-1) !== b.info.key || ear.tailNot(b.feed.value(0), 44100) > 0 || ear.longestZeroRun > 100 || source.givenBack.length > 0)
        failures.push(`edit at ${at} ms: titles ${keys.join(',')}; longest silence ${ear.longestZeroRun}`);
      channel.destroy();
    }
    assert.deepEqual(failures, []);
  });
});
