/**
 * docker-compose.yml without a Docker engine: `docker-compose config`
 * validates and interpolates it, then every service runs as a plain process
 * with exactly the command, environment and files the compose file gives it
 * (container paths mapped to what its volumes mount), and the station must
 * come on air.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { listen } from '../helpers/listener.js';
import { freePort, mountServed, until, waitForPort } from '../helpers/ports.js';
import { stopChild } from '../helpers/process.js';
import { startStandin, type Standin } from '../helpers/qq-standin.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

interface Service {
  image?: string;
  build?: unknown;
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string | number | null>;
  /** `source:target[:mode]`, as docker-compose 1.x prints them. */
  volumes?: string[];
  healthcheck?: { test: string[] };
  profiles?: string[];
}

const SECRETS = {
  ICECAST_SOURCE_PASSWORD: 'src0123456789abcdef',
  ICECAST_ADMIN_PASSWORD: 'adm0123456789abcdef',
  ICECAST_RELAY_PASSWORD: 'rel0123456789abcdef',
  API_PROXY_TOKEN: 'proxy-token-0123456789abcdef',
  CONTROL_TOKEN: 'control-token-0123456789abcdef',
};

async function composeConfig(env: Record<string, string>, profile?: string): Promise<{ code: number; out: string; err: string }> {
  const args = [...(profile ? ['--profile', profile] : []), 'config'];
  try {
    const { stdout, stderr } = await run('docker-compose', args, { cwd: ROOT, env: { PATH: process.env.PATH!, ...env } });
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout, err: err.stderr };
  }
}

describe('docker compose: validated, and its services run as plain processes', { timeout: 180_000 }, () => {
  const procs: ChildProcess[] = [];
  let services: Record<string, Service>;
  let env: Record<string, string>;
  let standin: Standin;
  const ports: Record<string, number> = {};
  const volumes = new Map<string, string>();

  before(async () => {
    standin = await startStandin([{ mid: '0039MnYb0qxYhV', title: '晴天', singer: [{ mid: 's', name: '周杰伦' }], interval: 200 }]);
    for (const k of ['ICECAST_PORT', 'REDIS_PORT', 'API_PROXY_PORT', 'SCAST_HTTP_PORT', 'ICECAST_RELAY_PORT']) ports[k] = await freePort();
    env = {
      ...SECRETS,
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
      ICECAST_HOST: '127.0.0.1',
      REDIS_HOST: '127.0.0.1',
      API_PROXY_HOST: '127.0.0.1',
      QQ_API_BASE: standin.base,
      QQ_C_BASE: standin.base,
      LOG_LEVEL: 'warn',
    };
    const cfg = await composeConfig(env, 'relay');
    assert.equal(cfg.code, 0, cfg.err);
    services = (parse(cfg.out) as { services: Record<string, Service> }).services;
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  });

  after(async () => {
    for (const p of procs.reverse()) await stopChild(p, 'SIGTERM');
    await standin?.close();
  });

  /** A container path as a host path: bind mounts map to their source, named volumes to a fresh folder. */
  function mapPaths(value: string, svc: Service): string {
    let out = value;
    for (const spec of svc.volumes ?? []) {
      const [source, target] = spec.split(':') as [string, string];
      let host = source;
      if (!source.startsWith('/')) {
        if (!volumes.has(source)) volumes.set(source, mkdtempSync(path.join(os.tmpdir(), `scast-vol-${source}-`)));
        host = volumes.get(source)!;
      }
      out = out.split(target).join(host);
    }
    return out;
  }

  const outputOf = new Map<string, () => string>();

  /** For a wait's `.catch`: its failure again, with the last of what the service printed. */
  const saying =
    (name: string) =>
    (err: Error): never => {
      throw new Error(`${err.message}; ${name} said: ${outputOf.get(name)?.().slice(-2000) ?? '(nothing)'}`, { cause: err });
    };

  /** Wait for a service's health check, showing its output if it never passes. */
  async function waitHealthy(name: string, timeoutMs = 30_000): Promise<void> {
    await until(`${name} healthy`, async () => ((await healthy(name)) ? true : undefined), timeoutMs, 100).catch(saying(name));
  }

  function start(name: string): ChildProcess {
    const svc = services[name]!;
    const argv = [...(svc.entrypoint ?? []), ...(svc.command ?? [])].map((a) => mapPaths(a, svc));
    if (argv[0] === 'node') argv[0] = process.execPath;
    const environment = Object.fromEntries(Object.entries(svc.environment ?? {}).map(([k, v]) => [k, mapPaths(String(v ?? ''), svc)]));
    const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, env: { PATH: process.env.PATH!, ...environment }, stdio: ['ignore', 'pipe', 'pipe'] });
    // Both streams: the station and api-proxy log (pino) to stdout, Icecast to stderr.
    let output = '';
    outputOf.set(name, () => output);
    const take = (d: Buffer): void => {
      output += d.toString();
      if (process.env.SCAST_TEST_LOGS) process.stderr.write(`[${name}] ${d}`);
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    child.once('exit', (code, signal) => {
      if (code !== 0 && signal === null) process.stderr.write(`[${name}] exited ${code}: ${output.slice(-1500)}\n`);
    });
    procs.push(child);
    return child;
  }

  /** Run a service's healthcheck command as its container would. */
  async function healthy(name: string): Promise<boolean> {
    const svc = services[name]!;
    const [kind, ...cmd] = svc.healthcheck!.test;
    assert.equal(kind, 'CMD');
    const argv = cmd.map((a) => mapPaths(a, svc));
    if (argv[0] === 'node') argv[0] = process.execPath;
    const environment = Object.fromEntries(Object.entries(svc.environment ?? {}).map(([k, v]) => [k, String(v ?? '')]));
    return run(argv[0]!, argv.slice(1), { env: { PATH: process.env.PATH!, ...environment } }).then(
      () => true,
      () => false,
    );
  }

  test('docker-compose config refuses to run without the secrets, naming the variable', async () => {
    const res = await composeConfig({});
    assert.notEqual(res.code, 0);
    assert.match(res.err, /set ICECAST_SOURCE_PASSWORD in \.env/);
    const noToken = await composeConfig({ ...SECRETS, API_PROXY_TOKEN: '' });
    assert.notEqual(noToken.code, 0);
    assert.match(noToken.err, /API_PROXY_TOKEN/);
    assert.deepEqual(Object.keys(services).sort(), ['api-proxy', 'icecast', 'icecast-relay', 'redis', 'streamer']);
    assert.equal(services.streamer!.environment!.ICECAST_ADMIN_PASSWORD, SECRETS.ICECAST_ADMIN_PASSWORD, 'icecast and the streamer get the same secrets');
    assert.equal(services.icecast!.environment!.ICECAST_ADMIN_PASSWORD, SECRETS.ICECAST_ADMIN_PASSWORD);
  });

  test('icecast, redis, api-proxy and streamer come up in dependency order; the station is on air with titles; the proxy answers', async () => {
    start('redis');
    await waitHealthy('redis');
    start('icecast');
    await waitHealthy('icecast');
    start('api-proxy');
    await waitHealthy('api-proxy');
    start('streamer');
    await waitHealthy('streamer');

    // Healthy says every channel is on air; its Icecast source may still be logging in.
    const mount = `http://127.0.0.1:${ports.ICECAST_PORT}/radio.mp3`;
    await mountServed(mount, 10_000).catch(saying('streamer'));
    const listener = await listen(mount);
    assert.equal(listener.status, 200);
    const title = await listener.waitForTitle((t) => t.length > 0, 30_000);
    assert.match(title.title, /Sunrise Arpeggio|Minor Waltz|Station Chime|晨光/);
    await listener.when('audio', () => (listener.bytes > 32_000 ? true : undefined), 10_000);
    listener.close();

    const proxy = `http://127.0.0.1:${ports.API_PROXY_PORT}`;
    const res = await fetch(`${proxy}/v1/qq/search?q=${encodeURIComponent('晴天')}`, { headers: { authorization: `Bearer ${SECRETS.API_PROXY_TOKEN}` } });
    assert.equal(res.status, 200);
    assert.equal((await fetch(`${proxy}/v1/qq/search?q=x`)).status, 401);
    const page = await fetch(`http://127.0.0.1:${ports.SCAST_HTTP_PORT}/`);
    assert.equal(page.status, 200);
  });

  test('profile relay: a relay Icecast pulls the mount from the main one; its listener hears the stream and its titles', async () => {
    start('icecast-relay');
    await waitForPort(ports.ICECAST_RELAY_PORT!);
    const relayUrl = `http://127.0.0.1:${ports.ICECAST_RELAY_PORT}/radio.mp3`;
    await mountServed(relayUrl, 30_000).catch(saying('icecast-relay'));
    const listener = await listen(relayUrl);
    assert.equal(listener.status, 200);
    await listener.when('relayed audio', () => (listener.bytes > 32_000 ? true : undefined), 15_000);
    const title = await listener.waitForTitle((t) => /Sunrise Arpeggio|Minor Waltz|Station Chime|晨光/.test(t), 40_000);
    console.log(`# relay listener saw "${title.title}"`);
    listener.close();
  });
});
