/**
 * Attack (or just a big station): configuration work on the audio path. A
 * valid playlist with 200 schedule blocks (the most the schema takes, half
 * of them hard starts) is edited again and again while a listener records;
 * validating and loading it must never hold the event loop long enough to
 * be heard: the listener's audio keeps arriving, with no gap a player
 * would run dry in.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Listener } from '../helpers/listener.js';
import { makeTone } from '../helpers/media.js';
import { until } from '../helpers/ports.js';
import { rateWatch, startStationProcess, steadyListener, type StationProcess } from '../helpers/station-process.js';
import { tempDir, writePlaylist } from '../helpers/station.js';

const hhmm = (m: number): string => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

/** 200 blocks every day of the week, 5 minutes each, 7 minutes apart; even ones start hard. */
function bigProgramme(edit: number): unknown {
  return {
    name: `Big ${edit}`,
    mount: '/big.mp3',
    timezone: 'Europe/Berlin',
    tracks: [{ source: 'file', path: 's.m4a' }],
    schedule: Array.from({ length: 200 }, (_, i) => ({
      name: `Block ${i}`,
      days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'],
      from: hhmm(i * 7),
      to: hhmm(i * 7 + 5),
      start: i % 2 === 0 ? 'hard' : 'soft',
      tracks: [{ source: 'file', path: 's.m4a' }],
    })),
  };
}

describe('adversarial: configuration work never blocks the audio', { timeout: 180_000 }, () => {
  let station: StationProcess;
  let listener: Listener;
  let dir: string;

  before(async () => {
    dir = tempDir('config-load');
    await makeTone({ file: path.join(dir, 's.m4a'), freq: 440, seconds: 60, args: ['-c:a', 'aac'], title: 'Tone' });
    writePlaylist(dir, 'big', { name: 'Big', mount: '/big.mp3', tracks: [{ source: 'file', path: 's.m4a' }] });
    station = await startStationProcess({ PLAYLISTS_DIR: dir, CACHE_DIR: tempDir('config-load-cache') });
    listener = await steadyListener(`${station.url}/big.mp3`);
  });

  after(async () => {
    listener?.close();
    await station?.close();
  });

  test('a 200-block programme edited 6 times while a listener records: no gap in its audio', async () => {
    const watch = rateWatch(listener, 128);
    for (let edit = 1; edit <= 6; edit++) {
      writeFileSync(path.join(dir, 'big.json'), JSON.stringify(bigProgramme(edit)));
      await until(
        `edit ${edit} applied`,
        async () => {
          const c = (await (await fetch(`${station.url}/api/channels/big`)).json()) as { name: string };
          return c.name === `Big ${edit}` ? true : undefined;
        },
        20_000,
      );
    }
    await new Promise((r) => setTimeout(r, 1000));
    const refused = station.find(/playlist (refused|invalid)|is invalid/);
    console.log(
      `# 6 edits of a 200-block programme: longest gap between audio arrivals ${watch.maxGapMs()} ms, listener at ${(watch.share() * 100).toFixed(1)} % of real time`,
    );
    assert.equal(refused.length, 0, `the programme was refused: ${JSON.stringify(refused[0])}`);
    // The pacer sends a tick every 100 ms; a player holds seconds of audio, but a gap this long means the loop was held.
    assert.ok(watch.maxGapMs() < 500, `audio stopped arriving for ${watch.maxGapMs()} ms`);
    assert.ok(watch.deficitMs() < 300, `the listener is ${Math.round(watch.deficitMs())} ms short of real time`);
  });
});
