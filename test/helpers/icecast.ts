import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, until, waitForPort } from './ports.js';
import { stopChild } from './process.js';

const TEMPLATE = path.resolve(import.meta.dirname, '../../icecast.xml');
const ENTRYPOINT = path.resolve(import.meta.dirname, '../../docker/icecast-entrypoint.sh');

export interface IcecastHandle {
  port: number;
  sourcePassword: string;
  adminPassword: string;
  relayPassword: string;
  url: string;
  /** ICECAST_URL for the streamer. */
  sourceUrl: string;
  dir: string;
  /** Start (again); resolves with the time it first accepted a connection. */
  start(): Promise<number>;
  /** SIGKILL: an Icecast crash. */
  kill(): Promise<void>;
  stop(): Promise<void>;
  stderr(): string;
  /** The running icecast2 process id, if any. */
  pid(): number | undefined;
  status(): Promise<IcecastMount[]>;
}

export interface IcecastMount {
  listenurl: string;
  title?: string;
  server_name?: string;
  listeners?: number;
  [k: string]: unknown;
}

/**
 * A real Icecast 2 (Debian icecast2) started exactly as the compose file
 * starts it: docker/icecast-entrypoint.sh rendering the repository's
 * icecast.xml, here on a free port and a temporary log folder.
 */
export async function startIcecast(opts: { port?: number; sourcePassword?: string; env?: Record<string, string> } = {}): Promise<IcecastHandle> {
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'scast-icecast-'));
  const sourcePassword = opts.sourcePassword ?? randomBytes(8).toString('hex');
  const adminPassword = randomBytes(8).toString('hex');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ICECAST_TEMPLATE: TEMPLATE,
    ICECAST_HOSTNAME: '127.0.0.1',
    ICECAST_MAX_CLIENTS: '600',
    ICECAST_SOURCE_PASSWORD: sourcePassword,
    ICECAST_RELAY_PASSWORD: randomBytes(8).toString('hex'),
    ICECAST_ADMIN_PASSWORD: adminPassword,
    ICECAST_PORT: String(port),
    ICECAST_LOG_DIR: dir,
    ICECAST_ACCESS_LOG: 'access.log',
    ...opts.env,
  };
  let child: ChildProcess | null = null;
  let err = '';
  let started = false;
  let stopping = false;
  let startedAt = 0;
  /** A restart after Icecast's own crash just after start-up (below), awaited by kill and stop. */
  let restarting: Promise<unknown> | null = null;
  let restartedAfterStart = false;
  async function startOnce(): Promise<number> {
    child = spawn('sh', [ENTRYPOINT], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const c = child;
    c.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    let exited: string | null = null;
    c.once('exit', (code, signal) => {
      exited = `icecast2 exited (${code ?? signal}) during start: ${err.slice(-2000)}`;
      // A test failing on a refused connection should say the server died under it.
      if (started && !stopping) {
        console.log(`# icecast2 on port ${port} exited unexpectedly (${code ?? signal}): ${err.slice(-500).trim()}`);
        // The same crash of Icecast's as in start() below, a moment after its start-up instead of during it
        // (seen once: SIGSEGV after "stats thread started" as the station's source connected): restart it
        // once, as its supervisor would; the source reconnects as it does after any Icecast restart.
        if (signal === 'SIGSEGV' && !restartedAfterStart && Date.now() - startedAt < 5000) {
          restartedAfterStart = true;
          console.log('# icecast2 crashed (SIGSEGV) just after its start-up; starting it again');
          restarting = startOnce().catch((e: unknown) => console.log(`# icecast2 restart failed: ${String(e)}`));
        }
      }
    });
    started = false;
    stopping = false;
    const acceptedAt = await waitForPort(port);
    // Accepting is not serving yet: wait for an HTTP answer, failing fast if it died.
    await until(
      'Icecast answering HTTP',
      async () => {
        if (exited) throw new Error(exited);
        const ok = await fetch(`http://127.0.0.1:${port}/status-json.xsl`).then(
          (r) => r.ok,
          () => false,
        );
        return ok ? true : undefined;
      },
      10_000,
      10,
    );
    started = true;
    startedAt = Date.now();
    return acceptedAt;
  }
  const handle: IcecastHandle = {
    port,
    sourcePassword,
    adminPassword,
    relayPassword: env.ICECAST_RELAY_PASSWORD!,
    dir,
    url: `http://127.0.0.1:${port}`,
    sourceUrl: `http://source:${sourcePassword}@127.0.0.1:${port}`,
    async start() {
      try {
        return await startOnce();
      } catch (e) {
        // Icecast 2.4.4 itself has been seen to segfault (rarely: once in ~10
        // suite runs) right after "stats thread started" while a source client
        // was reconnecting. That is Icecast's crash, not the client's; restart
        // it once, as its supervisor would, and say so.
        if (!/SIGSEGV/.test(String(e))) throw e;
        console.log('# icecast2 crashed (SIGSEGV) during its own start-up; starting it again');
        return startOnce();
      }
    },
    kill: async () => {
      await restarting;
      stopping = true;
      return stopChild(child, 'SIGKILL');
    },
    stop: async () => {
      await restarting;
      stopping = true;
      return stopChild(child, 'SIGTERM');
    },
    stderr: () => err,
    pid: () => (child && child.exitCode === null ? child.pid : undefined),
    async status() {
      // /admin/stats (XML) rather than status-json.xsl: Icecast 2.4 does not escape quotes in JSON titles.
      const auth = Buffer.from(`admin:${adminPassword}`).toString('base64');
      const res = await fetch(`http://127.0.0.1:${port}/admin/stats`, { headers: { authorization: `Basic ${auth}` } });
      const xml = await res.text();
      const mounts: IcecastMount[] = [];
      for (const m of xml.matchAll(/<source mount="([^"]*)">([\s\S]*?)<\/source>/g)) {
        const fields: IcecastMount = { listenurl: `http://127.0.0.1:${port}${decodeXml(m[1]!)}` };
        for (const f of m[2]!.matchAll(/<([a-z_]+)>([^<]*)<\/\1>/g)) fields[f[1]!] = decodeXml(f[2]!);
        if (fields.listeners !== undefined) fields.listeners = Number(fields.listeners);
        mounts.push(fields);
      }
      return mounts;
    },
  };
  await handle.start();
  return handle;
}

function decodeXml(s: string): string {
  return s
    .replace(/&#(\d+);/g, (_m, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_m, n: string) => String.fromCodePoint(parseInt(n, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
