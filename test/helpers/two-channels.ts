/**
 * The rig of the live-port attack suites: a station process with two tone
 * channels (radio at 440 Hz, other at 660 Hz), DJ accounts, and a steady
 * listener on each, so an attack on one channel is judged by what both
 * listeners hear.
 */
import path from 'node:path';
import { hashPassword, writeDjFile } from '../../src/live/accounts.js';
import type { Listener } from './listener.js';
import { makeTone } from './media.js';
import { startStationProcess, steadyListener, type StationProcess } from './station-process.js';
import { tempDir, writePlaylist } from './station.js';

export interface TwoChannels {
  station: StationProcess;
  radio: Listener;
  other: Listener;
}

export async function twoChannelStation(
  name: string,
  opts: { seconds: number; djs: { user: string; channel: 'radio' | 'other'; password: string }[]; env?: Record<string, string> },
): Promise<TwoChannels> {
  const dir = tempDir(name);
  for (const [id, freq, title] of [
    ['radio', 440, 'Radio'],
    ['other', 660, 'Other'],
  ] as const) {
    await makeTone({ file: path.join(dir, `${id}.m4a`), freq, seconds: opts.seconds, args: ['-c:a', 'aac'], title });
    writePlaylist(dir, id, { name: title, mount: `/${id}.mp3`, loudness: false, tracks: [{ source: 'file', path: `${id}.m4a` }] });
  }
  const djs = path.join(tempDir(`${name}-djs`), 'djs.json');
  await writeDjFile(djs, {
    djs: await Promise.all(opts.djs.map(async (d) => ({ user: d.user, channels: [d.channel], hash: await hashPassword(d.password), timezone: 'UTC' }))),
  });
  const station = await startStationProcess({ PLAYLISTS_DIR: dir, CACHE_DIR: tempDir(`${name}-cache`), DJS_FILE: djs, ...opts.env });
  const radio = await steadyListener(`${station.url}/radio.mp3`);
  const other = await steadyListener(`${station.url}/other.mp3`);
  return { station, radio, other };
}
