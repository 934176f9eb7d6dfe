/**
 * A programme in real time, heard as a player hears it: a schedule block
 * with a hard start cutting in at its minute, station IDs between songs,
 * songs from a folder and an M3U file, and the folder picked up and dropped
 * as files come and go.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import { listen } from '../helpers/listener.js';
import { decodeMp3, makeTone, silentRuns, toneChanges } from '../helpers/media.js';
import { until } from '../helpers/ports.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

const hhmm = (ms: number): string => new Date(ms).toISOString().slice(11, 16);

describe('a programme heard by a listener', { timeout: 180_000 }, () => {
  test('a hard block cuts in at its minute (titles and the feed say so), IDs every two songs, songs from a folder and an M3U', async (t) => {
    const dir = tempDir('programme');
    mkdirSync(path.join(dir, 'music'));
    mkdirSync(path.join(dir, 'evening'));
    // Two songs by one artist, one by another: the rule (no artist twice in a row) makes them alternate.
    for (const [i, n] of ['M1', 'M2', 'M3'].entries())
      await makeTone({
        file: path.join(dir, 'music', `${n}.m4a`),
        freq: 300 + 50 * i,
        seconds: 4,
        args: ['-c:a', 'aac'],
        title: n,
        artist: n === 'M3' ? 'Bee' : 'Ay',
      });
    for (const [i, n] of ['E1', 'E2'].entries())
      await makeTone({ file: path.join(dir, 'evening', `${n}.mp3`), freq: 700 + 50 * i, seconds: 4, args: ['-c:a', 'libmp3lame'] });
    await makeTone({ file: path.join(dir, 'id.mp3'), freq: 1500, seconds: 1, args: ['-c:a', 'libmp3lame'], title: 'id' });
    writeFileSync(
      path.join(dir, 'evening.m3u'),
      '#EXTM3U\n#EXTINF:4,Evening Band - E1\nevening/E1.mp3\n#EXTINF:4,Evening Band - E2\nevening/E2.mp3\n/etc/passwd\nsmb://host/share/x.mp3\n',
    );
    // The block starts at the next whole minute at least 25 s away (UTC), so the station is well on air before it.
    const start = Math.ceil((Date.now() + 25_000) / 60_000) * 60_000;
    writePlaylist(dir, 'prog', {
      name: 'Programme',
      mount: '/prog.mp3',
      timezone: 'UTC',
      order: 'shuffle',
      tracks: [{ source: 'folder', path: 'music' }],
      jingles: { tracks: [{ source: 'file', path: 'id.mp3' }], every: { songs: 2 }, title: 'Station ID' },
      rules: { artistSeparation: { songs: 1 } },
      schedule: [
        {
          name: 'Evening',
          days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'],
          from: hhmm(start),
          to: hhmm(start + 10 * 60_000),
          start: 'hard',
          tracks: [{ source: 'm3u', path: 'evening.m3u' }],
        },
      ],
    });
    const station = await runStation({ PLAYLISTS_DIR: dir });
    const feed: {
      type: string;
      at: number;
      programme?: { block: string | null; next?: { block: string | null; at: string } | null };
      nowPlaying?: { title: string; block?: string | null; jingle?: boolean };
    }[] = [];
    const ws = new WebSocket(`${station.url.replace('http', 'ws')}/ws?channel=prog`);
    ws.on('message', (d) => feed.push({ ...(JSON.parse(String(d)) as (typeof feed)[number]), at: Date.now() }));
    const listener = await listen(`${station.url}/prog.mp3`);
    try {
      await listener.waitForTitle((x) => /^(Ay|Bee) - M\d$/.test(x), 20_000);
      const view = (await (await fetch(`${station.url}/api/channels/prog`)).json()) as {
        programme: { block: string | null; next: { block: string | null; at: string } | null };
      };
      assert.deepEqual(
        view.programme,
        { block: null, next: { block: 'Evening', at: new Date(start).toISOString() } },
        'the API says what block comes next, and when',
      );
      const first = await listener.waitForTitle((x) => x.startsWith('Evening Band'), start - Date.now() + 15_000);
      const announced = await until('the feed says the block is on', () => feed.find((m) => m.type === 'block' && m.programme?.block === 'Evening'), 5000);
      // Its next change is the block's end, not the block itself (a hard start's song goes out just ahead of its minute).
      assert.deepEqual(
        announced.programme?.next,
        { block: null, at: new Date(start + 10 * 60_000).toISOString() },
        'the block message names what follows the block',
      );
      await listener.waitForTitle((x) => x === 'Evening Band - E2', 20_000);
      // When the block is heard: where its song's tone takes over in the recording, and when those bytes arrived.
      const pcm = await decodeMp3(listener.audio());
      const change = toneChanges(pcm, [300, 350, 400, 700, 1500]).find((c) => c.to === 700)!;
      assert.ok(change, "the block's song is heard");
      const heardMs = listener.arrivalOf(Math.round(change.at * 16_000))! - start;
      const cutAt = Number(station.logs.find(/block "Evening" starts/)[0]?.time) - start;
      const airAt = Number(station.logs.find(/now playing/).find((l) => l.song === 'E1')?.time) - start;
      const titleMs = first.at - start;
      t.diagnostic(
        `block "Evening" at ${new Date(start).toISOString()}: cut at ${cutAt} ms, its first song released to the outputs at ${airAt} ms, its tone louder than the fading song in the audio arriving at ${heardMs} ms, its ICY title at ${titleMs} ms (titles ride the metadata block sent once every 16 000 audio bytes, 1 s)`,
      );
      assert.ok(Math.abs(heardMs) <= 1000, `the block is heard within 1 s of its time (${heardMs} ms)`);
      assert.ok(titleMs <= 2000, `its title follows within the next ICY metadata block (${titleMs} ms)`);
      // Heard in order: the channel's own songs with an ID after every two, then the block's, still with IDs.
      const titles = listener.titles.map((x) => x.title);
      t.diagnostic(`listener's titles: ${titles.map((x, i) => `${x}@${listener.titles[i]!.at - start}ms`).join(', ')}`);
      const before = titles.slice(
        0,
        titles.findIndex((x) => x.startsWith('Evening')),
      );
      const song = (x: string): boolean => /^(Ay|Bee) - M\d$/.test(x);
      for (let i = 0; i < before.length; i++)
        if (before[i] === 'Station ID')
          assert.ok(i >= 2 && before[i - 1] !== 'Station ID' && before[i - 2] !== 'Station ID', `IDs after two songs: ${before.join(', ')}`);
      assert.ok(
        before.filter((x) => x === 'Station ID').length >= Math.floor(before.filter(song).length / 2) - 1,
        `an ID after every two songs: ${before.join(', ')}`,
      );
      assert.ok(before.every((x) => song(x) || x === 'Station ID'));
      // The rule, as heard: once each file's tags were read, the songs (IDs aside) never name one artist twice in a
      // row; a repeat before then has its log line. Songs are lined up two ahead, so the last of the three files'
      // tags are read as the fifth song is lined up: repeats may fall among the first five.
      const artists = before.filter(song).map((x) => x.split(' - ')[0]);
      const repeats = artists.flatMap((a, i) => (i > 0 && a === artists[i - 1] ? [i] : []));
      assert.ok(artists.length >= 6 && repeats.every((i) => i < 5), `no artist twice in a row after the first pass: ${artists.join(', ')}`);
      const logged = station.logs.find(/rotation rule (broken|relaxed)/).length;
      t.diagnostic(`artists heard: ${artists.join(', ')}; rule log lines: ${logged}`);
      assert.ok(repeats.length === 0 || logged > 0, 'a repeat of the first pass has its log line');
      const track = feed.filter((m) => m.type === 'track').map((m) => m.nowPlaying!);
      assert.ok(
        track.some((n) => n.jingle === true && n.title === 'Station ID'),
        'IDs are marked in the feed',
      );
      assert.ok(
        track.some((n) => n.block === 'Evening' && n.title === 'E1'),
        'block songs are named by their block',
      );
      // The cut was a fade, never silence: no silent run over 50 ms around the block's start.
      const seam = Math.round(change.at * 44_100);
      const gaps = silentRuns(pcm.subarray(Math.max(0, seam - 3 * 44_100), seam + 3 * 44_100), 44_100).filter((g) => g.ms > 50);
      assert.deepEqual(gaps, [], 'no silence at the hard start');
      assert.ok(station.logs.find(/entries of the list left out/).length >= 1, 'the M3U entries out of bounds were refused with a log line');
      const { history } = (await (await fetch(`${station.url}/api/channels/prog`)).json()) as { history: { title: string; end?: string }[] };
      assert.ok(
        history.some((h) => h.end === 'interrupted'),
        'the song cut by the hard start is in the history as interrupted',
      );
    } finally {
      ws.close();
      listener.close();
      await station.close();
    }
  });

  test('a folder followed as files come and go: added songs join, removed ones leave, the song on air plays on', async () => {
    const dir = tempDir('programme-folder');
    const music = path.join(dir, 'music', 'sub');
    mkdirSync(music, { recursive: true });
    for (const n of ['F1', 'F2']) await makeTone({ file: path.join(music, `${n}.mp3`), freq: 440, seconds: 3, args: ['-c:a', 'libmp3lame'], title: n });
    writeFileSync(path.join(music, 'notes.txt'), 'not audio');
    writePlaylist(dir, 'folder', { name: 'Folder', mount: '/folder.mp3', tracks: [{ source: 'folder', path: 'music' }] });
    const station = await runStation({ PLAYLISTS_DIR: dir });
    const listener = await listen(`${station.url}/folder.mp3`);
    try {
      await listener.waitForTitle((x) => x === 'F1');
      await makeTone({ file: path.join(dir, 'F3.tmp.mp3'), freq: 660, seconds: 3, args: ['-c:a', 'libmp3lame'], title: 'F3' });
      // A new subfolder with a song, moved in whole (as a copy finishing would).
      mkdirSync(path.join(dir, 'music', 'new'));
      writeFileSync(path.join(dir, 'music', 'new', 'F3.mp3'), await import('node:fs/promises').then((f) => f.readFile(path.join(dir, 'F3.tmp.mp3'))));
      await station.logs.when('the new song is read', () => station.logs.find(/folder read/).find((l) => l.songs === 3), 10_000);
      await listener.waitForTitle((x) => x === 'F3', 30_000);
      rmSync(path.join(music, 'F2.mp3'));
      await station.logs.when('the removed song is dropped', () => station.logs.find(/folder read/).find((l) => l.songs === 2 && l.before === 3), 10_000);
      const count = listener.titles.length;
      await listener.when('two more songs', () => (listener.titles.length >= count + 3 ? true : undefined), 30_000);
      const after = listener.titles.slice(count + 1).map((x) => x.title);
      assert.ok(!after.includes('F2'), `F2 no longer plays: ${after.join(', ')}`);
      assert.equal(station.logs.find(/song skipped/).length, 0, 'nothing failed: the folder is followed, not guessed');
    } finally {
      listener.close();
      await station.close();
    }
  });
});

describe('an M3U list at a URL', { timeout: 120_000 }, () => {
  test('entries relative to the list and absolute URLs play; local paths from a remote list are refused; an edit upstream is picked up', async () => {
    const { createServer } = await import('node:http');
    const { readFileSync } = await import('node:fs');
    const media = tempDir('m3u-url-media');
    for (const [i, n] of ['U1', 'U2', 'U3'].entries())
      await makeTone({ file: path.join(media, `${n}.mp3`), freq: 400 + 100 * i, seconds: 3, args: ['-c:a', 'libmp3lame'], title: n });
    let list = '#EXTM3U\n#EXTINF:3,Remote - U1\nsongs/U1.mp3\n/etc/passwd\nfile:///etc/passwd\n#EXTINF:3,Remote - U2\nhttp://127.0.0.1:PORT/songs/U2.mp3\n';
    let listReads = 0;
    const server = createServer((req, res) => {
      if (req.url === '/lists/radio.m3u') {
        listReads++;
        res.writeHead(200, { 'content-type': 'audio/x-mpegurl' });
        res.end(list.replaceAll('PORT', String((server.address() as { port: number }).port)));
        return;
      }
      const m = /^\/lists\/songs\/(U\d)\.mp3$|^\/songs\/(U\d)\.mp3$/.exec(req.url ?? '');
      if (!m) {
        res.writeHead(404);
        res.end();
        return;
      }
      const body = readFileSync(path.join(media, `${m[1] ?? m[2]}.mp3`));
      res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': body.length });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const dir = tempDir('m3u-url');
    writePlaylist(dir, 'remote', {
      name: 'Remote',
      mount: '/remote.mp3',
      tracks: [{ source: 'm3u', url: `http://127.0.0.1:${port}/lists/radio.m3u`, refreshMinutes: 0.25 }],
    });
    const station = await runStation({ PLAYLISTS_DIR: dir });
    const listener = await listen(`${station.url}/remote.mp3`);
    try {
      await listener.waitForTitle((x) => x === 'Remote - U1', 20_000);
      await listener.waitForTitle((x) => x === 'Remote - U2', 20_000);
      const refused = station.logs.find(/entries of the list left out/)[0]!;
      assert.equal(refused.count, 2, 'a remote list cannot name local files');
      list = '#EXTM3U\n#EXTINF:3,Remote - U3\nsongs/U3.mp3\n';
      await listener.waitForTitle((x) => x === 'Remote - U3', 40_000);
      assert.ok(listReads >= 2);
    } finally {
      listener.close();
      await station.close();
      server.close();
    }
  });
});
