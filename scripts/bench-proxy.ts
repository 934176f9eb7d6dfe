/**
 * api-proxy cache-hit throughput and latency, side by side with a bare
 * fastify route answering a constant from memory, in the same run. Both
 * servers are separate processes; the load comes from this one (autocannon).
 *
 *   npm run bench:proxy -- --seconds 10 --connections 50
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { freePort, until } from '../test/helpers/ports.js';
import { startRedis } from '../test/helpers/redis.js';
import { startStandin } from '../test/helpers/qq-standin.js';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '50' }, rounds: { type: 'string', default: '3' } },
});
const root = path.resolve(import.meta.dirname, '..');
const token = 'bench-token-0123456789abcdef';
const mid = '0039MnYb0qxYhV';

function node(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
}

const standin = await startStandin([{ mid, title: '晴天', singer: [{ mid: 's', name: '周杰伦' }], interval: 269 }]);
const redis = await startRedis();
const proxyPort = await freePort();
const proxy = node(['--import', 'tsx', 'api-proxy/main.ts'], {
  PORT: String(proxyPort),
  HOST: '127.0.0.1',
  API_PROXY_TOKEN: token,
  REDIS_URL: redis.url,
  QQ_API_BASE: standin.base,
  QQ_C_BASE: standin.base,
  LOG_LEVEL: 'warn',
});
const barePort = await freePort();
const bare = node(['--import', 'tsx', 'scripts/lib/bare-server.ts'], { PORT: String(barePort) });
const proxyUrl = `http://127.0.0.1:${proxyPort}/v1/qq/songs/${mid}`;
const bareUrl = `http://127.0.0.1:${barePort}/v1/qq/songs/${mid}`;
const auth = { authorization: `Bearer ${token}` };
await until(
  'proxy up',
  async () =>
    await fetch(proxyUrl, { headers: auth }).then(
      (r) => r.headers.get('x-cache') === 'hit' || undefined,
      () => undefined,
    ),
  20_000,
  100,
);
await until(
  'bare up',
  async () =>
    await fetch(bareUrl).then(
      (r) => r.ok || undefined,
      () => undefined,
    ),
  20_000,
  100,
);

async function load(url: string, headers: Record<string, string>) {
  const r = await autocannon({ url, headers, connections: Number(values.connections), duration: Number(values.seconds) });
  return { rps: r.requests.average, p99: r.latency.p99, p50: r.latency.p50, errors: r.errors + r.non2xx };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const runs: { proxy: Awaited<ReturnType<typeof load>>; bare: Awaited<ReturnType<typeof load>> }[] = [];
for (let i = 0; i < Number(values.rounds); i++) {
  // Alternate so neither side always runs on a warmer machine.
  const b = await load(bareUrl, {});
  const p = await load(proxyUrl, auth);
  runs.push({ proxy: p, bare: b });
}
const result = {
  connections: Number(values.connections),
  seconds: Number(values.seconds),
  rounds: runs.length,
  proxyRps: median(runs.map((r) => r.proxy.rps)),
  proxyP50ms: median(runs.map((r) => r.proxy.p50)),
  proxyP99ms: median(runs.map((r) => r.proxy.p99)),
  bareRps: median(runs.map((r) => r.bare.rps)),
  bareP99ms: median(runs.map((r) => r.bare.p99)),
  ratio: Number(median(runs.map((r) => r.proxy.rps / r.bare.rps)).toFixed(3)),
  errors: runs.reduce((s, r) => s + r.proxy.errors + r.bare.errors, 0),
  upstreamCallsDuringLoad: standin.calls.get('music.pf_song_detail_svr.get_song_detail_yqq'),
};
console.log(JSON.stringify(result));
console.log(
  `cache hits: ${result.proxyRps} req/s, p50 ${result.proxyP50ms} ms, p99 ${result.proxyP99ms} ms; bare route: ${result.bareRps} req/s, p99 ${result.bareP99ms} ms; ratio ${result.ratio} (median of ${result.rounds})`,
);
proxy.kill();
bare.kill();
await redis.stop();
await standin.close();
process.exit(0);
