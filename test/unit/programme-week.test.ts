/**
 * A week of programme in seconds, on a fake clock: a channel's ProgrammeSource
 * driven as the mixer drives it (take a song at each seam, tell it when the
 * song ends or is cut), with songs from fake collections and a fake resolver.
 * The week straddles Europe/Berlin's change to summer time, and every
 * expected start time below is written out in UTC by hand, not computed by
 * the code under test.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { playlistSchema, trackKey, type CollectionEntry, type Track } from '../../src/config/playlist.js';
import type { Collection } from '../../src/acquire/collections/collection.js';
import type { MediaResolver, PreparedMedia } from '../../src/acquire/resolver.js';
import { ProgrammeSource } from '../../src/playout/sources/programme/programme-source.js';
import type { Song } from '../../src/playout/sources/source.js';
import { FakeFeed } from '../helpers/fake-songs.js';
import { captureLogs } from '../helpers/station.js';

/** A collection that holds its songs from the start. */
function fixed(tracks: Track[]): Collection {
  return Object.assign(new EventEmitter(), { tracks, close: () => undefined });
}

const music = Array.from({ length: 40 }, (_, i): Track => ({ source: 'file', path: `/music/${String(i).padStart(2, '0')}.mp3` }));
const morning = Array.from({ length: 12 }, (_, i): Track => ({
  source: 'url',
  url: `https://example.org/m${i}.mp3`,
  title: `Morning ${i}`,
  artist: `Morning Artist ${i % 6}`,
}));
const night = Array.from({ length: 4 }, (_, i): Track => ({ source: 'file', path: `/night/${i}.mp3`, title: `Night ${i}`, artist: 'The Night Band' }));
const brunch = Array.from({ length: 24 }, (_, i): Track => ({
  source: 'file',
  path: `/brunch/${i}.mp3`,
  title: `Brunch ${i}`,
  artist: `Brunch Artist ${i % 8}`,
}));
const ids = Array.from({ length: 3 }, (_, i): Track => ({ source: 'file', path: `/ids/${i}.mp3`, title: `ID ${i}` }));

/** Seconds a song lasts: 150-270 s, fixed per song. IDs: 8 s. */
function secondsOf(key: string): number {
  if (key.includes('/ids/')) return 8;
  let h = 0;
  for (const c of key) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return 150 + (h % 121);
}

/** Folder files name their artist only in their tags: ten artists, four songs each. */
function tagArtist(track: Track): string | undefined {
  if (track.source === 'file' && track.path.startsWith('/music/')) return `Artist ${Number(track.path.slice(7, 9)) % 10}`;
  return track.artist;
}

const resolver = {
  prepare: (track: Track): Promise<PreparedMedia> =>
    Promise.resolve({
      info: {
        key: trackKey(track),
        source: track.source === 'qq' ? 'qq' : track.source,
        title: track.title ?? trackKey(track),
        artist: tagArtist(track),
        durationMs: secondsOf(trackKey(track)) * 1000,
      },
      path: '/dev/null',
      exactSeconds: null,
      codec: 'mp3',
      trusted: true,
      analysis: null,
      analysing: null,
      release: () => undefined,
    }),
} as unknown as MediaResolver;

const playlist = playlistSchema.parse({
  name: 'Week',
  mount: '/week.mp3',
  timezone: 'Europe/Berlin',
  tracks: [{ source: 'folder', path: '/music' }],
  order: 'shuffle',
  jingles: { tracks: [{ source: 'm3u', path: '/ids.m3u' }], every: { songs: 4 }, topOfHour: true, title: 'sCast Radio' },
  rules: { songRepeatMinutes: 60, artistSeparation: { songs: 3 } },
  schedule: [
    {
      name: 'Morning',
      days: ['mon', 'tue', 'wed', 'thu', 'fri'],
      from: '07:00',
      to: '10:00',
      start: 'hard',
      tracks: [{ source: 'qq-playlist', id: '7039371977' }],
      order: 'shuffle',
    },
    { name: 'Night', days: ['sat', 'sun'], from: '23:00', to: '02:00', start: 'soft', order: 'shuffle', tracks: [{ source: 'm3u', path: '/night.m3u' }] },
    { name: 'Brunch', days: ['sun'], from: '10:00', to: '12:00', start: 'hard', tracks: [{ source: 'folder', path: '/brunch' }] },
  ],
});

const collections: Record<string, Track[]> = { '/music': music, '/ids.m3u': ids, '7039371977': morning, '/night.m3u': night, '/brunch': brunch };
const openCollection = (e: CollectionEntry): Collection => fixed(collections[e.source === 'qq-playlist' ? e.id : e.path!]!);

interface Aired {
  at: number;
  title: string;
  key: string;
  artist: string | undefined;
  block: string | null;
  jingle: boolean;
  cut: boolean;
}

const H = 3_600_000;
/** Monday 23 March 2026, 00:00 in Berlin (CET, UTC+1). */
const START = Date.UTC(2026, 2, 22, 23, 0);
/** Monday 30 March 2026, 00:00 in Berlin (CEST since Sunday 02:00 CET, UTC+2). */
const END = Date.UTC(2026, 2, 29, 22, 0);

async function week(): Promise<{ aired: Aired[]; logs: ReturnType<typeof captureLogs>; ms: number }> {
  const logs = captureLogs('info');
  let clock = START;
  const mono = (): number => clock - START;
  const source = new ProgrammeSource({
    playlist,
    log: logs.logger,
    clock: () => clock,
    anticipateMs: 0,
    deps: { resolver, decoderFor: () => 'ffmpeg', openFeed: () => new FakeFeed(1, () => 0), openCollection, now: mono, random: seeded(7) },
  });
  let cut = false;
  source.on('cut', () => (cut = true));
  const aired: Aired[] = [];
  let current: { song: Song; end: number } | null = null;
  const started = performance.now();
  while (clock < END) {
    source.prepare();
    if (cut && current) {
      source.finished(current.song, { how: 'stopped' });
      aired[aired.length - 1]!.cut = true;
      current = null;
    }
    cut = false;
    if (current && clock >= current.end) {
      source.finished(current.song, { how: 'ended' });
      current = null;
    }
    for (let tries = 0; !current && tries < 5; tries++) {
      const song = source.take();
      if (!song) {
        // Its preparation is a promise: let it settle, as the event loop would between ticks.
        await new Promise((r) => setImmediate(r));
        source.prepare();
        continue;
      }
      current = { song, end: clock + (song.info.durationMs ?? 0) };
      aired.push({
        at: clock,
        title: song.info.title,
        key: song.info.key,
        artist: song.info.artist,
        block: song.info.block ?? null,
        jingle: song.info.jingle === true,
        cut: false,
      });
      source.played(song.info.key);
    }
    assert.ok(current, `a song is ready at ${new Date(clock).toISOString()}`);
    // The next thing that can happen: the song ends, or a minute turns (blocks start on minutes).
    clock = Math.min(current.end, (Math.floor(clock / 60_000) + 1) * 60_000);
  }
  source.close();
  return { aired, logs, ms: performance.now() - started };
}

function seeded(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

test('a week of programme on a fake clock: blocks on time across a DST change, every ID placed, no rule broken without a log line', async (t) => {
  const { aired, logs, ms } = await week();
  const music = aired.filter((a) => !a.jingle);
  const at = (ms: number): Aired | undefined => aired.find((a) => a.at === ms);
  const first = (from: number): Aired | undefined => aired.find((a) => a.at >= from);

  // Hard starts: the block's first song at its time to the millisecond, the song before it cut.
  const hard: [string, number][] = [
    ...[23, 24, 25, 26, 27].map((d): [string, number] => ['Morning', Date.UTC(2026, 2, d, 6, 0)]), // 07:00 CET
    ['Brunch', Date.UTC(2026, 2, 29, 8, 0)], // 10:00 CEST, the day the clocks went forward
  ];
  let hardErrorMs = 0;
  for (const [block, when] of hard) {
    const a = at(when);
    assert.ok(a, `${block} starts at ${new Date(when).toISOString()}`);
    assert.equal(a.block, block);
    assert.equal(a.jingle, false, 'a hard start opens with the block, not an ID');
    assert.equal(aired[aired.indexOf(a) - 1]!.cut, true, 'the song on air at a hard start is cut');
    hardErrorMs = Math.max(hardErrorMs, Math.abs(a.at - when));
  }
  // Blocks end softly: the channel's own list from the first seam after.
  for (const [block, until] of [
    ['Morning', Date.UTC(2026, 2, 23, 9, 0)],
    ['Brunch', Date.UTC(2026, 2, 29, 10, 0)],
  ] as const) {
    const after = aired.filter((a) => a.at >= until && !a.jingle)[0]!;
    assert.equal(after.block, null, `the channel's own list follows ${block}`);
    const last = aired.filter((a) => a.at < until && !a.jingle).at(-1)!;
    assert.equal(last.block, block);
  }
  // The soft block: at the first seam after Saturday 23:00 CET; it ends at 02:00 local, which on Sunday is 03:00 CEST.
  const nightStart = Date.UTC(2026, 2, 28, 22, 0);
  const onAirThen = aired.filter((a) => a.at < nightStart).at(-1)!;
  assert.notEqual(onAirThen.block, 'Night');
  assert.equal(first(nightStart)!.block, 'Night', 'the first thing after 23:00 belongs to Night (an ID at the top of the hour included)');
  assert.equal(aired.filter((a) => a.at >= nightStart && !a.jingle)[0]!.block, 'Night');
  const nightEnd = Date.UTC(2026, 2, 29, 1, 0);
  assert.equal(aired.filter((a) => a.at >= nightEnd && !a.jingle)[0]!.block, null);
  assert.ok(
    aired.filter((a) => a.at > nightStart + 600_000 && a.at < nightEnd && !a.jingle).every((a) => a.block === 'Night'),
    'only Night plays inside it',
  );
  // Outside the blocks, only the channel's own list; inside, only the block's.
  for (const a of music) {
    const d = new Date(a.at);
    const weekday = d.getUTCDay();
    const inMorning = weekday >= 1 && weekday <= 5 && a.at >= Date.UTC(2026, 2, d.getUTCDate(), 6) && a.at < Date.UTC(2026, 2, d.getUTCDate(), 9);
    if (inMorning) assert.equal(a.block, 'Morning', `${a.title} at ${d.toISOString()}`);
  }

  // IDs: at the first seam after every full hour (but right after a hard start's first song), and never more than 4 songs apart.
  const ids = aired.filter((a) => a.jingle);
  assert.ok(
    ids.every((a) => a.title === 'sCast Radio'),
    'IDs show the configured title',
  );
  let hours = 0;
  for (let h = START + H; h < END; h += H) {
    const i = aired.findIndex((a) => a.at >= h);
    if (i < 0) continue;
    hours++;
    const next = aired[i]!;
    const placed = next.jingle || (hard.some(([, w]) => w === next.at) && aired[i + 1]!.jingle);
    assert.ok(placed, `an ID at the first seam after ${new Date(h).toISOString()} (got ${next.title})`);
  }
  let run = 0;
  let longest = 0;
  for (const a of aired) {
    if (a.jingle) run = 0;
    else run++;
    const allowed = hard.some(([, w]) => w === a.at) ? 5 : 4;
    assert.ok(run <= allowed, `at most 4 songs between IDs (${run} before ${new Date(a.at).toISOString()})`);
    longest = Math.max(longest, run);
  }

  // Rules: every break of a rule has its log line, naming the song.
  const relaxed = logs.find(/^rotation rule (relaxed|broken)/);
  const logged = new Map<string, number>();
  for (const l of relaxed) logged.set(String(l.song), (logged.get(String(l.song)) ?? 0) + 1);
  const breaks = new Map<string, number>();
  const byBlock = new Map<string, number>();
  let lastMainBreak = -1;
  for (let i = 0; i < music.length; i++) {
    const a = music[i]!;
    const artistTooSoon = a.artist !== undefined && music.slice(Math.max(0, i - 3), i).some((b) => b.artist === a.artist);
    const songTooSoon = music.slice(0, i).some((b) => b.key === a.key && a.at - b.at < 60 * 60_000);
    if (!artistTooSoon && !songTooSoon) continue;
    breaks.set(a.title, (breaks.get(a.title) ?? 0) + 1);
    if (a.block === null) lastMainBreak = music.filter((m, j) => j <= i && m.block === null).length;
    byBlock.set(a.block ?? 'main', (byBlock.get(a.block ?? 'main') ?? 0) + 1);
  }
  for (const [title, n] of breaks) assert.ok((logged.get(title) ?? 0) >= n, `${title} broke a rule ${n} time(s) with ${logged.get(title) ?? 0} log line(s)`);
  // The rules hold where a list allows them: the channel's own list (40 songs, 10 artists) breaks one only while
  // first learning its files' artists from their tags; Brunch (24 songs, 8 artists) never. Night (4 songs, one
  // artist) and Morning (12 songs for 3 hours, against a 60-minute repeat) cannot keep them: relaxed, logged.
  assert.ok(lastMainBreak <= 45, `the channel's own list keeps the rules once its 40 files have been read once (last break at its song ${lastMainBreak})`);
  assert.equal(byBlock.get('Brunch') ?? 0, 0);
  assert.ok((byBlock.get('Night') ?? 0) > 0 && (byBlock.get('Morning') ?? 0) > 0, 'the short lists are relaxed, with log lines');

  t.diagnostic(
    `week simulated in ${Math.round(ms)} ms: ${aired.length} items aired (${music.length} songs, ${ids.length} IDs), ${hard.length} hard starts (max error ${hardErrorMs} ms), ${hours} top-of-hour IDs placed, longest run between IDs ${longest}, ${relaxed.length} rule log lines (breaks by list: ${JSON.stringify(Object.fromEntries(byBlock))}; the channel's own list's last at its song ${lastMainBreak} of ${music.filter((m) => m.block === null).length}, while its tags were first read)`,
  );
});

test('a song given back (cut before it was on air) returns to the list that handed it out and plays next, as its own hand-out', async () => {
  const logs = captureLogs('info');
  // Monday 30 March 2026, 05:00 in Berlin: the channel's own list.
  const clock = Date.UTC(2026, 2, 30, 3, 0);
  const source = new ProgrammeSource({
    playlist,
    log: logs.logger,
    clock: () => clock,
    anticipateMs: 0,
    deps: { resolver, decoderFor: () => 'ffmpeg', openFeed: () => new FakeFeed(1, () => 0), openCollection, now: () => clock, random: seeded(3) },
  });
  const take = async (): Promise<Song> => {
    for (let tries = 0; tries < 10; tries++) {
      source.prepare();
      const song = source.take();
      if (song) return song;
      await new Promise((r) => setImmediate(r));
    }
    throw new Error('no song ready');
  };
  // Past the top-of-hour ID to a song of the list.
  let first = await take();
  while (first.info.jingle) {
    source.finished(first, { how: 'ended' });
    first = await take();
  }
  const second = await take();
  assert.notEqual(second.info.key, first.info.key);
  // The second was cut while fading in: given back, then it leaves the mix.
  source.giveBack(second);
  source.finished(second, { how: 'stopped' });
  const again = await take();
  assert.equal(again.info.key, second.info.key, 'the song given back comes next');
  assert.notEqual(again.info, second.info, 'a new hand-out, known apart from the first');
  assert.equal(again.info.block, second.info.block);
  source.close();
});
