/**
 * The operator edits the playlist while it plays, as people do: a song
 * appended, only the genre changed, a broken save then fixed, a song listed
 * twice. What plays must be exactly what the list says, in order, with no
 * song skipped.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import { makeTone } from '../helpers/media.js';
import { until } from '../helpers/ports.js';
import { runStation, tempDir, writePlaylist } from '../helpers/station.js';

describe('edits keep the play position', { timeout: 120_000 }, () => {
  test('a subscriber hears the exact title sequence across an append, a genre change, a broken save and a duplicate entry', async () => {
    const dir = tempDir('edits');
    const names = ['S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7'];
    for (const [i, n] of names.entries())
      await makeTone({ file: path.join(dir, `${n}.m4a`), freq: 300 + 60 * i, seconds: 1.5, args: ['-c:a', 'aac'], title: n });
    const list = (n: string[], extra: Record<string, unknown> = {}) => ({
      name: 'Edits',
      mount: '/edits.mp3',
      genre: 'Test',
      ...extra,
      tracks: n.map((x) => ({ source: 'file', path: `${x}.m4a` })),
    });
    writePlaylist(dir, 'edits', list(names.slice(0, 6)));
    const station = await runStation({ PLAYLISTS_DIR: dir });
    const heard: string[] = [];
    const ws = new WebSocket(`${station.url.replace('http', 'ws')}/ws?channel=edits`);
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as { type: string; nowPlaying?: { title: string } };
      if (m.type === 'track') heard.push(m.nowPlaying!.title);
    });
    const playing = (title: string, nth = 1) =>
      until(`${title} on air (${nth})`, () => (heard.filter((t) => t === title).length >= nth ? true : undefined), 30_000);
    const applied = async (n: number) =>
      station.logs.when(`edit ${n} applied`, () => (station.logs.find(/playlist updated/).length >= n ? true : undefined), 5000);
    try {
      await new Promise((r) => ws.once('open', r));
      await playing('S1');
      writePlaylist(dir, 'edits', list(names)); // S7 appended
      await applied(1);
      await playing('S3');
      writePlaylist(dir, 'edits', list(names, { genre: 'Changed' })); // only the genre
      await applied(2);
      await playing('S4');
      writeFileSync(path.join(dir, 'edits.json'), '{"name": "Edits", "tracks": ['); // a broken save...
      await station.logs.when('the broken save reported', () => station.logs.find(/invalid playlist/)[0], 5000);
      writePlaylist(dir, 'edits', list(names, { genre: 'Changed' })); // ...then fixed, as it was
      await playing('S5');
      writePlaylist(dir, 'edits', list([...names, 'S1'], { genre: 'Changed' })); // S1 listed twice
      await playing('S2', 2);
      assert.deepEqual(heard.slice(0, 10), ['S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7', 'S1', 'S1', 'S2']);
    } finally {
      ws.close();
      await station.close();
    }
  });
});
