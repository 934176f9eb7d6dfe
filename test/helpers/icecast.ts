import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { freePort, until, waitForPort } from './ports.js';

const TEMPLATE = path.resolve(import.meta.dirname, '../../icecast.xml');

/** Fill `${NAME}` placeholders as envsubst does, but refuse missing ones. */
export function renderTemplate(template: string, vars: Record<string, string>): string {
  return template.replace(/\$\{([A-Z0-9_]+)\}/g, (_m, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new Error(`icecast.xml needs ${name}`);
    return v;
  });
}

export interface IcecastHandle {
  port: number;
  sourcePassword: string;
  adminPassword: string;
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
  status(): Promise<IcecastMount[]>;
}

export interface IcecastMount {
  listenurl: string;
  title?: string;
  server_name?: string;
  listeners?: number;
  [k: string]: unknown;
}

/** A real Icecast 2 (Debian icecast2) from the project's icecast.xml, on a free port. */
export async function startIcecast(opts: { port?: number; sourcePassword?: string } = {}): Promise<IcecastHandle> {
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'scast-icecast-'));
  const isRoot = process.getuid?.() === 0;
  if (isRoot) {
    const uid = Number(execFileSync('id', ['-u', 'icecast2']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'icecast2']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const sourcePassword = opts.sourcePassword ?? randomBytes(8).toString('hex');
  const adminPassword = randomBytes(8).toString('hex');
  const xml = renderTemplate(readFileSync(TEMPLATE, 'utf8'), {
    ICECAST_ADMIN_EMAIL: 'test@localhost',
    ICECAST_HOSTNAME: '127.0.0.1',
    ICECAST_MAX_CLIENTS: '600',
    ICECAST_MAX_SOURCES: '32',
    ICECAST_SOURCE_PASSWORD: sourcePassword,
    ICECAST_RELAY_PASSWORD: randomBytes(8).toString('hex'),
    ICECAST_ADMIN_USER: 'admin',
    ICECAST_ADMIN_PASSWORD: adminPassword,
    ICECAST_PORT: String(port),
    ICECAST_LOG_DIR: dir,
    ICECAST_ACCESS_LOG: 'access.log',
    ICECAST_ERROR_LOG: '-',
    ICECAST_CHANGEOWNER: isRoot ? '<changeowner><user>icecast2</user><group>icecast</group></changeowner>' : '',
  });
  const config = path.join(dir, 'icecast.xml');
  writeFileSync(config, xml);
  let child: ChildProcess | null = null;
  let err = '';
  const handle: IcecastHandle = {
    port,
    sourcePassword,
    adminPassword,
    dir,
    url: `http://127.0.0.1:${port}`,
    sourceUrl: `http://source:${sourcePassword}@127.0.0.1:${port}`,
    async start() {
      child = spawn('icecast2', ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
      const c = child;
      c.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
      });
      let exited: string | null = null;
      c.once('exit', (code, signal) => {
        exited = `icecast2 exited (${code ?? signal}) during start: ${err.slice(-2000)}`;
      });
      const acceptedAt = await waitForPort(port);
      // Accepting is not serving yet: wait for an HTTP answer, failing fast if it died.
      await until('Icecast answering HTTP', async () => {
        if (exited) throw new Error(exited);
        const ok = await fetch(`http://127.0.0.1:${port}/status-json.xsl`).then((r) => r.ok, () => false);
        return ok ? true : undefined;
      }, 10_000, 10);
      return acceptedAt;
    },
    async kill() {
      const c = child;
      if (!c || c.exitCode !== null) return;
      await new Promise((resolve) => {
        c.once('exit', resolve);
        c.kill('SIGKILL');
      });
    },
    async stop() {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      await new Promise((resolve) => {
        c.once('exit', resolve);
        c.kill('SIGTERM');
      });
    },
    stderr: () => err,
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
