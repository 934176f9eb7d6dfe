import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { loadPlaylistFile, parsePlaylist } from '../../src/config/playlist-file.js';
import { PlaylistError } from '../../src/kernel/errors.js';
import { parseM3u, parsePlaylistText, parsePls, parseXspf } from '../../src/acquire/collections/playlist-formats.js';
import { JingleClock } from '../../src/playout/sources/programme/jingle-clock.js';
import { Rotation } from '../../src/playout/sources/programme/rotation.js';
import { Schedule } from '../../src/playout/sources/programme/schedule.js';
import { zonedEpoch } from '../../src/config/week.js';
import { tempDir } from '../helpers/station.js';

const base = { name: 'P', mount: '/p.mp3', tracks: [{ source: 'file', path: 'a.mp3' }] };
const refusal = (extra: Record<string, unknown>): PlaylistError => {
  try {
    parsePlaylist('/lists/p.json', Buffer.from(JSON.stringify({ ...base, ...extra })));
  } catch (err) {
    assert.ok(err instanceof PlaylistError);
    return err;
  }
  assert.fail('accepted');
};

describe('programme schema refuses nonsense with file, JSON path and reason', () => {
  test('overlapping hard blocks', () => {
    const e = refusal({
      schedule: [
        { name: 'Breakfast', days: ['mon', 'tue'], from: '07:00', to: '10:00', start: 'hard', tracks: [] },
        { name: 'Late', days: ['tue'], from: '09:30', to: '11:00', start: 'hard', tracks: [] },
      ],
    });
    assert.match(e.message, /\/lists\/p\.json/);
    assert.match(e.message, /schedule\[1\].*overlaps schedule\[0\] \("Breakfast"\) from tue 09:30/);
  });
  test('a hard block overlapping one past midnight, and soft blocks that may overlap', () => {
    const e = refusal({
      schedule: [
        { days: ['sun'], from: '23:00', to: '02:00', tracks: [] },
        { days: ['mon'], from: '01:00', to: '03:00', start: 'hard', tracks: [] },
      ],
    });
    assert.match(e.message, /schedule\[1\].*from mon 01:00/);
    const ok = parsePlaylist(
      'p.json',
      Buffer.from(
        JSON.stringify({
          ...base,
          schedule: [
            { days: ['mon'], from: '07:00', to: '09:00', tracks: [] },
            { days: ['mon'], from: '08:00', to: '10:00', tracks: [] },
          ],
        }),
      ),
    );
    assert.equal(ok.schedule.length, 2);
  });
  test('an unknown time zone, an interval of 0, jingles with no timing, a bad time', () => {
    assert.match(refusal({ timezone: 'Mars/Olympus' }).message, /timezone: not a known IANA time zone/);
    assert.match(refusal({ jingles: { tracks: [], every: { songs: 0 } } }).message, /jingles\.every/);
    assert.match(refusal({ jingles: { tracks: [], every: { minutes: 0 } } }).message, /jingles\.every/);
    assert.match(refusal({ jingles: { tracks: [] } }).message, /jingles\.every: say when jingles play/);
    assert.match(refusal({ tracks: [{ source: 'qq-playlist', id: '123', refreshMinutes: 0 }] }).message, /tracks\[0\]\.refreshMinutes: at least 0\.25/);
    assert.match(refusal({ rules: { songRepeatMinutes: 0 } }).message, /rules\.songRepeatMinutes: at least 1 minute/);
    assert.match(refusal({ rules: { artistSeparation: {} } }).message, /rules\.artistSeparation: give "songs", "minutes" or both/);
    assert.match(refusal({ schedule: [{ days: ['mon'], from: '7:00', to: '10:00', tracks: [] }] }).message, /schedule\[0\]\.from: a start time as HH:MM/);
    assert.match(
      refusal({ schedule: [{ days: ['mon'], from: '10:00', to: '10:00', tracks: [] }] }).message,
      /schedule\[0\]\.to: from and to are the same time/,
    );
    // "24:00" is the next day's 00:00: as a start it is refused (24:00 to 00:00 was an empty block that passed).
    assert.match(
      refusal({ schedule: [{ days: ['mon'], from: '24:00', to: '00:00', tracks: [] }] }).message,
      /schedule\[0\]\.from: a start time as HH:MM \(00:00 to 23:59; 24:00 is the next day's 00:00\)/,
    );
    assert.match(refusal({ tracks: [{ source: 'm3u' }] }).message, /tracks\[0\]\.path: give either path or url/);
    assert.match(refusal({ tracks: [{ source: 'm3u', url: 'ftp://x/y.m3u' }] }).message, /tracks\[0\]\.url: must be an http/);
    assert.match(refusal({ tracks: [{ source: 'podcast' }] }).message, /source must be one of "file", "url", "qq", "folder", "m3u", "qq-playlist"/);
  });
  test('a folder or list file outside the allowed folders, in any list', async () => {
    const dir = tempDir('programme-schema');
    mkdirSync(path.join(dir, 'music'));
    const file = path.join(dir, 'p.json');
    writeFileSync(
      file,
      JSON.stringify({
        ...base,
        tracks: [
          { source: 'folder', path: 'music' },
          { source: 'folder', path: '../../etc' },
        ],
        jingles: { tracks: [{ source: 'm3u', path: '/etc/ids.m3u' }], topOfHour: true },
        schedule: [{ days: ['mon'], from: '07:00', to: '09:00', tracks: [{ source: 'folder', path: '/' }] }],
      }),
    );
    await assert.rejects(loadPlaylistFile(file, [dir]), (err: PlaylistError) => {
      assert.match(err.message, /tracks\[1\]\.path: folder "\.\.\/\.\.\/etc" is outside the playlists folder/);
      assert.match(err.message, /jingles\.tracks\[0\]\.path: playlist file "\/etc\/ids\.m3u" is outside/);
      assert.match(err.message, /schedule\[0\]\.tracks\[0\]\.path: folder "\/" is outside/);
      assert.equal(err.issues.length, 3, 'the folder inside is accepted');
      return true;
    });
  });
});

describe('playlist file formats', () => {
  test('extended M3U: titles, attributes with commas, comments, CRLF, a BOM', () => {
    const text =
      '\uFEFF#EXTM3U\r\n#EXTINF:215 tvg-name="a, b",Artist One - Song One\r\nmusic/one.mp3\r\n# a comment\r\n\r\n#EXTINF:-1,Just A Title\r\nhttps://example.org/two.mp3\r\nthree.flac\r\n';
    assert.deepEqual(parsePlaylistText(text), [
      { location: 'music/one.mp3', artist: 'Artist One', title: 'Song One' },
      { location: 'https://example.org/two.mp3', title: 'Just A Title' },
      { location: 'three.flac' },
    ]);
    assert.deepEqual(parseM3u('#EXTINF:1,\nx.mp3'), [{ location: 'x.mp3' }]);
  });
  test('PLS: numbered entries in order, titles', () => {
    const text = '[playlist]\nFile2=b.mp3\nTitle2=B - Two\nFile1=a.mp3\nNumberOfEntries=2\nVersion=2\n';
    assert.deepEqual(parsePlaylistText(text), [{ location: 'a.mp3' }, { location: 'b.mp3', artist: 'B', title: 'Two' }]);
    assert.deepEqual(parsePls('[playlist]\nFile1=\n'), []);
  });
  test('XSPF: locations, titles, creators, entities and CDATA; no other entity is expanded', () => {
    const text = `<?xml version="1.0"?><playlist version="1" xmlns="http://xspf.org/ns/0/"><trackList>
      <track><location>file:///music/a%20b.mp3</location><title>Rock &amp; Roll &#x266B;</title><creator><![CDATA[<Band>]]></creator></track>
      <track><title>no location</title></track>
      <track><location>https://example.org/x.mp3</location><title>&xxe;</title></track>
    </trackList></playlist>`;
    assert.deepEqual(parseXspf(text), [
      { location: 'file:///music/a%20b.mp3', title: 'Rock & Roll ♫', artist: '<Band>' },
      { location: 'https://example.org/x.mp3', title: '&xxe;' },
    ]);
  });
});

describe('schedule in a time zone', () => {
  const blocks = [
    { days: ['mon', 'tue', 'wed', 'thu', 'fri'] as ('mon' | 'tue' | 'wed' | 'thu' | 'fri')[], from: '07:00', to: '10:00' },
    { days: ['sat'] as 'sat'[], from: '23:00', to: '02:00' },
  ];
  test('blocks by local wall-clock time, across the spring and autumn changes', () => {
    const s = new Schedule(blocks, 'Europe/Berlin');
    // Friday 27 March 2026, CET (UTC+1): 07:00 local is 06:00 UTC.
    assert.equal(s.at(Date.UTC(2026, 2, 27, 5, 59)), -1);
    assert.equal(s.at(Date.UTC(2026, 2, 27, 6, 0)), 0);
    assert.equal(s.at(Date.UTC(2026, 2, 27, 8, 59, 59)), 0);
    assert.equal(s.at(Date.UTC(2026, 2, 27, 9, 0)), -1);
    // Monday 30 March, CEST (UTC+2): 07:00 local is 05:00 UTC.
    assert.equal(s.at(Date.UTC(2026, 2, 30, 5, 0)), 0);
    assert.equal(s.at(Date.UTC(2026, 2, 30, 4, 59)), -1);
    // Saturday night into the spring change: 02:00 CET never comes, the block ends when 03:00 CEST does (01:00 UTC).
    assert.equal(s.at(Date.UTC(2026, 2, 28, 22, 0)), 1);
    assert.equal(s.at(Date.UTC(2026, 2, 29, 0, 59)), 1);
    assert.equal(s.at(Date.UTC(2026, 2, 29, 1, 0)), -1);
    // Autumn: Sunday 25 October, 02:00-02:59 happens twice; the block ends at the first 02:00 (CEST, 00:00 UTC).
    assert.equal(s.at(Date.UTC(2026, 9, 24, 23, 59)), 1);
    assert.equal(s.at(Date.UTC(2026, 9, 25, 0, 0)), -1);
  });
  test('the next change, named', () => {
    const s = new Schedule(blocks, 'Europe/Berlin');
    assert.deepEqual(s.next(Date.UTC(2026, 2, 27, 7, 0)), { at: Date.UTC(2026, 2, 27, 9, 0), index: -1 });
    assert.deepEqual(s.next(Date.UTC(2026, 2, 27, 9, 0)), { at: Date.UTC(2026, 2, 28, 22, 0), index: 1 });
    assert.deepEqual(s.next(Date.UTC(2026, 2, 28, 23, 0)), { at: Date.UTC(2026, 2, 29, 1, 0), index: -1 });
    assert.deepEqual(s.next(Date.UTC(2026, 2, 29, 1, 0)), { at: Date.UTC(2026, 2, 30, 5, 0), index: 0 });
    assert.equal(new Schedule([], 'UTC').next(0), null);
  });
  test('wall-clock times to instants, zones with half hours', () => {
    assert.equal(zonedEpoch('Asia/Kolkata', 2026, 12, 2, 7 * 60), Date.UTC(2026, 11, 2, 1, 30));
    assert.equal(zonedEpoch('America/New_York', 2026, 3, 8, 12 * 60), Date.UTC(2026, 2, 8, 16, 0));
    assert.equal(zonedEpoch('UTC', 2026, 1, 32, 0), Date.UTC(2026, 1, 1));
  });
});

describe('jingle clock', () => {
  test('every N songs, and the top of the hour in the zone (India: at :30 UTC)', () => {
    const t0 = Date.UTC(2026, 11, 2, 1, 10);
    const c = new JingleClock({ every: { songs: 3 }, topOfHour: true }, 'Asia/Kolkata', t0);
    assert.equal(c.due(t0), false);
    c.song();
    c.song();
    assert.equal(c.due(t0 + 60_000), false);
    c.song();
    assert.equal(c.due(t0 + 120_000), true);
    c.played(t0 + 120_000);
    assert.equal(c.due(Date.UTC(2026, 11, 2, 1, 29)), false);
    assert.equal(c.due(Date.UTC(2026, 11, 2, 1, 31)), true, '07:01 in Kolkata: the first seam after the full hour');
    c.played(Date.UTC(2026, 11, 2, 1, 31));
    assert.equal(c.due(Date.UTC(2026, 11, 2, 1, 40)), false);
  });
  test('a song given back unheard does not count towards the next ID', () => {
    const c = new JingleClock({ every: { songs: 2 }, topOfHour: false }, 'UTC', 0);
    c.song();
    c.returned();
    c.song();
    assert.equal(c.due(1000), false, 'one song heard, not two');
    c.song();
    assert.equal(c.due(2000), true);
    c.returned();
    c.returned();
    c.returned();
    c.song();
    assert.equal(c.due(3000), false, 'never below zero');
  });
  test('every N minutes', () => {
    const c = new JingleClock({ every: { minutes: 15 }, topOfHour: false }, 'UTC', 0);
    assert.equal(c.due(14 * 60_000), false);
    assert.equal(c.due(15 * 60_000), true);
    c.played(16 * 60_000);
    assert.equal(c.due(30 * 60_000), false);
    assert.equal(c.due(31 * 60_000), true);
  });
});

describe('rotation rules', () => {
  test('song repeat and artist separation, counted from air time; songs another list lines up do not count until they air', () => {
    let now = 0;
    const r = new Rotation({ songRepeatMinutes: 30, artistSeparation: { songs: 2, minutes: 20 } }, () => now);
    const list = {};
    const block = {};
    const a1 = { source: 'file' as const, path: '/a1.mp3', artist: 'A' };
    const a2 = { source: 'file' as const, path: '/a2.mp3', artist: ' a ' };
    const b1 = { source: 'file' as const, path: '/b1.mp3', artist: 'B' };
    const c1 = { source: 'file' as const, path: '/c1.mp3' };
    r.dealt(a1, list);
    now = 60_000;
    assert.match(r.breaks(a2, list)!, /artist separation: a played 1 song\(s\) ago/);
    assert.match(r.breaks(a1, list)!, /song repeat/);
    assert.equal(r.breaks(a2, block), null, "what this list lined up is not before a block's songs");
    assert.equal(r.breaks(b1, list), null);
    r.played('file:/a1.mp3');
    assert.match(r.breaks(a2, block)!, /artist separation/, 'once aired, it counts for every list');
    r.dealt(b1, list);
    r.dealt(c1, list);
    now = 19 * 60_000;
    assert.match(r.breaks(a2, list)!, /played 18 min ago \(minutes 20\)/);
    now = 21 * 60_000;
    assert.equal(r.breaks(a2, list), null);
    assert.match(r.breaks(a1, list)!, /song repeat: played 20 min ago/);
    // A block lines songs up a minute ahead: they do not come between this list's songs.
    r.dealt(a2, block);
    assert.equal(r.breaks({ source: 'file', path: '/b2.mp3', artist: 'B' }, list) !== null, true, 'b1 is lined up on this list');
    // An artist known only from tags: the song lined up before it was known breaks the separation, and says so.
    r.dealt({ source: 'file', path: '/d1.mp3' }, list);
    assert.equal(r.learn({ source: 'file', path: '/d1.mp3' }, 'B', list)!.song, 'file:/d1.mp3');
    assert.match(r.breaks({ source: 'file', path: '/d1.mp3' }, list)!, /song repeat/);
  });
});

describe('weights per source', () => {
  test('songs drawn by weight across sources, however small a source is; a weight in a sequential list is refused', async () => {
    const { Selection } = await import('../../src/playout/sources/playlist/selection.js');
    const { captureLogs } = await import('../helpers/station.js');
    const mk = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ source: 'file' as const, path: `/${prefix}/${i}.mp3` }));
    const big = mk('big', 200);
    const small = mk('small', 3);
    const plain = mk('plain', 5);
    const tracks = [...plain, ...big, ...small];
    const groupOf = new Map([...big.map((t) => [t, 1] as const), ...small.map((t) => [t, 2] as const)]);
    let seed = 3;
    const s = new Selection({
      list: { tracks, order: 'shuffle', loop: true, weights: { groupOf, weight: [1, 3, 1] } },
      log: captureLogs().logger,
      now: () => 0,
      random: () => (seed = (seed * 16807) % 2147483647) / 2147483647,
    });
    const counts = { plain: 0, big: 0, small: 0 };
    for (let i = 0; i < 500; i++) {
      const d = s.draw()!;
      counts[d.track.source === 'file' ? (d.track.path.split('/')[1] as keyof typeof counts) : 'plain']++;
    }
    assert.deepEqual(counts, { plain: 100, big: 300, small: 100 }, 'weights 1 : 3 : 1 over 500 songs');
    assert.match(refusal({ tracks: [{ source: 'folder', path: 'a', weight: 2 }] }).message, /tracks\[0\]\.weight: weights need "order": "shuffle"/);
    assert.match(
      refusal({ schedule: [{ days: ['mon'], from: '07:00', to: '08:00', tracks: [{ source: 'folder', path: 'a', weight: 0 }], order: 'shuffle' }] }).message,
      /schedule\[0\]\.tracks\[0\]\.weight: more than 0/,
    );
  });
});

describe('hostile playlist files', () => {
  test('XSPF and M3U built to make a parser crawl are read in linear time', () => {
    const started = performance.now();
    parseXspf('<tracklist>'.repeat(300_000) + '</track>');
    parseXspf('<track><title>'.repeat(200_000));
    parseM3u('#EXTINF:1,'.repeat(400_000));
    parseXspf(`<track><location>${'<'.repeat(1_000_000)}</track>`);
    const ms = performance.now() - started;
    assert.ok(ms < 2000, `four 3-4 MB hostile lists in ${Math.round(ms)} ms`);
  });
});

describe('jingles and loudness', () => {
  test('a jingle set not to be normalized keeps its own level (and own gain); songs are brought to the target', async () => {
    const { Normalize } = await import('../../src/playout/operators/normalize.js');
    const { fakeSong, FakeSource } = await import('../helpers/fake-songs.js');
    const analysis = { integratedLufs: -30, truePeakDb: -20, startSeconds: 0, endSeconds: null };
    const song = { ...fakeSong(10, 0), analysis };
    const jingle = { ...fakeSong(10, 0, { track: { gain: -2 } }), analysis, normalize: false };
    const n = new Normalize(new FakeSource([song, jingle]), { loudness: () => ({ target: -16, ceiling: -2 }), idle: () => true, now: () => 0 });
    assert.ok(Math.abs(n.take()!.gainDb - 14) < 0.01, 'the song: -30 LUFS brought up 14 dB to -16');
    assert.equal(n.take()!.gainDb, -2, 'the jingle: its own gain only');
  });

  test('a song not analysed yet: waited for while nothing is on air (given back, then taken at its measured gain); not while something is; not past the wait', async () => {
    const { Normalize } = await import('../../src/playout/operators/normalize.js');
    const { fakeSong, FakeSource } = await import('../helpers/fake-songs.js');
    const loudness = () => ({ target: -16, ceiling: -2 });
    let land!: (a: { integratedLufs: number; truePeakDb: number; startSeconds: number; endSeconds: null }) => void;
    const first = {
      ...fakeSong(10, 0),
      analysing: new Promise<{ integratedLufs: number; truePeakDb: number; startSeconds: number; endSeconds: null }>((r) => (land = r)),
    };
    const source = new FakeSource([first]);
    const clock = { t: 0 };
    const n = new Normalize(source, { loudness, idle: () => true, now: () => clock.t, waitMs: 8000 });
    assert.equal(n.take(), null, 'held back while its analysis runs');
    assert.deepEqual(
      source.givenBack.map((s) => s.info.key),
      [first.info.key],
      'given back, first in line',
    );
    assert.deepEqual(
      source.ends.map((e) => e.end.how),
      ['stopped'],
      'its decoder let go',
    );
    clock.t = 500;
    assert.equal(n.take(), null, 'still waiting');
    land({ integratedLufs: -30, truePeakDb: -20, startSeconds: 0, endSeconds: null });
    // Its promise chain settles within this turn of the event loop.
    await new Promise((r) => setImmediate(r));
    const again = n.take()!;
    assert.equal(again.info.key, first.info.key);
    assert.ok(Math.abs(again.gainDb - 14) < 0.01, `played at its measured gain (${again.gainDb} dB), not a typical master's (-2 dB)`);

    // Something on air: no waiting, the typical gain.
    const busy = new Normalize(new FakeSource([{ ...fakeSong(10, 0), analysing: new Promise(() => undefined) }]), {
      loudness,
      idle: () => false,
      now: () => 0,
    });
    assert.equal(busy.take()!.gainDb, -2);
    // An analysis that never lands: waited for waitMs, then played.
    const slow = { ...fakeSong(10, 0), analysing: new Promise<null>(() => undefined) };
    const c2 = { t: 0 };
    const patient = new Normalize(new FakeSource([slow]), { loudness, idle: () => true, now: () => c2.t, waitMs: 8000 });
    assert.equal(patient.take(), null);
    c2.t = 7999;
    assert.equal(patient.take(), null);
    c2.t = 8000;
    assert.equal(patient.take()!.gainDb, -2, 'after the wait, the typical gain, once');
  });
});
