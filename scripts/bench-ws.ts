/**
 * What idle WebSocket subscribers cost the station: memory and CPU of the
 * streamer process with 0 and then N connected feed clients.
 *
 *   npm run bench:ws -- --clients 1000 --seconds 20
 */
import { spawn, execFileSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { freePort, until } from '../test/helpers/ports.js';
import { tempDir } from '../test/helpers/station.js';
import { treeUsage } from './lib/proc.js';
import { STATION_ENV, STATION_NODE_ARGS } from './lib/station-command.js';

const { values } = parseArgs({ options: { clients: { type: 'string', default: '1000' }, seconds: { type: 'string', default: '20' } } });
const n = Number(values.clients);
const seconds = Number(values.seconds);
const root = path.resolve(import.meta.dirname, '..');
execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
const port = await freePort();
const child = spawn(process.execPath, [...STATION_NODE_ARGS], {
  cwd: root,
  env: {
    ...process.env,
    ...STATION_ENV,
    PLAYLISTS_DIR: path.join(root, 'playlists'),
    HTTP_PORT: String(port),
    HTTP_HOST: '127.0.0.1',
    CACHE_DIR: tempDir('ws-cache'),
    LOG_LEVEL: 'warn',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;
await until(
  'station up',
  async () =>
    (await fetch(`${base}/health`).then(
      (r) => r.ok,
      () => false,
    )) || undefined,
  20_000,
);
await new Promise((r) => setTimeout(r, 5000));

/** Node's own memory (the feed lives there; ffmpeg children are the same either way). */
function nodeRss(): number {
  const u = treeUsage(child.pid!);
  return u.rssBytes;
}
async function window(): Promise<{ cpu: number; rss: number }> {
  const u0 = treeUsage(child.pid!);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const u1 = treeUsage(child.pid!);
  return { cpu: ((u1.cpuSeconds - u0.cpuSeconds) / ((performance.now() - t0) / 1000)) * 100, rss: nodeRss() };
}

const idle = await window();
const clients: WebSocket[] = [];
let messages = 0;
for (let i = 0; i < n; i++) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  ws.on('message', () => messages++);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  clients.push(ws);
}
const loaded = await window();
const open = clients.filter((c) => c.readyState === WebSocket.OPEN).length;
for (const c of clients) c.terminate();
child.kill('SIGTERM');
const result = {
  clients: n,
  stillConnected: open,
  messagesReceived: messages,
  cpuPercentIdle: Number(idle.cpu.toFixed(2)),
  cpuPercentWithClients: Number(loaded.cpu.toFixed(2)),
  rssMBIdle: Number((idle.rss / 1e6).toFixed(1)),
  rssMBWithClients: Number((loaded.rss / 1e6).toFixed(1)),
  kBPerClient: Number(((loaded.rss - idle.rss) / n / 1024).toFixed(1)),
};
console.log(JSON.stringify(result));
console.log(
  `${n} idle feed clients: +${(result.rssMBWithClients - result.rssMBIdle).toFixed(1)} MB RSS (${result.kBPerClient} KiB each), ` +
    `CPU ${result.cpuPercentIdle} % -> ${result.cpuPercentWithClients} % of a core; ${open} still connected, ${messages} messages delivered`,
);
process.exit(0);
