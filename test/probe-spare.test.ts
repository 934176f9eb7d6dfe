import path from 'node:path';
import { test } from 'node:test';
import { startIcecast } from './helpers/icecast.js';
import { listen } from './helpers/listener.js';
import { makeTone } from './helpers/media.js';
import { until } from './helpers/ports.js';
import { startStationProcess } from './helpers/station-process.js';
import { tempDir, writePlaylist } from './helpers/station.js';
test('probe', async () => {
  const ice = await startIcecast();
  const dir = tempDir('spare');
  await makeTone({ file: path.join(dir, 'a.m4a'), freq: 440, seconds: 30, args: ['-c:a', 'aac'] });
  writePlaylist(dir, 'h', { name: 'H', mount: '/h.mp3', tracks: [{ source: 'file', path: 'a.m4a' }] });
  const env = { PLAYLISTS_DIR: dir, ICECAST_URL: ice.sourceUrl };
  const a = await startStationProcess({ ...env, CACHE_DIR: tempDir('c1') });
  await until('a on air', () => a.find(/on air/)[0], 10_000);
  const b = await startStationProcess({ ...env, CACHE_DIR: tempDir('c2') });
  await new Promise((r) => setTimeout(r, 2000));
  const l1 = await listen(`${ice.url}/h.mp3`);
  await new Promise((r) => setTimeout(r, 1000));
  const t0 = Date.now();
  a.child.kill('SIGKILL');
  const onAir = await until('b on air', () => b.find(/^on air$/)[0], 20_000);
  let firstAudio = 0;
  for (;;) {
    try { const l = await listen(`${ice.url}/h.mp3`); if (l.status === 200) { await until('bytes', () => (l.bytes > 0 ? true : undefined), 5000); firstAudio = Date.now() - t0; l.close(); break; } l.close(); } catch { /* refused */ }
    await new Promise((r) => setTimeout(r, 20));
  }
  console.log(`B on air ${Number(onAir.time) - t0} ms after kill; new listener audio at ${firstAudio} ms; old listener closed: ${l1.closed}; B:`, b.lines.filter((l) => Number(l.time) >= t0 - 100).map((l) => `${Number(l.time) - t0} ${l.msg}`).join(' | '));
  l1.close(); await b.close(); await ice.stop();
});
