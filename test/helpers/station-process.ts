/**
 * The streamer as an operator runs it: its own process (node on src/main.ts,
 * the process guard and signal handling included), optionally under a lowered
 * descriptor limit, so an attack can be judged by whether that process stays
 * up, how many descriptors it holds, and what it logs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { listen, type Listener } from './listener.js';
import { freePort, until } from './ports.js';
import { stopChild } from './process.js';
import { Watch } from './when.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface StationProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Every JSON log line so far. */
  lines: Record<string, unknown>[];
  /** Log lines whose msg matches. */
  find(re: RegExp): Record<string, unknown>[];
  /** Waits for `check` to give a value, looked at as each log line arrives (no polling). */
  when<T>(what: string, check: () => T | undefined, timeoutMs?: number): Promise<T>;
  /** Output that was not a JSON line (a crash's stack trace lands here). */
  stray(): string;
  alive(): boolean;
  /** Descriptors the process holds now. */
  fds(): number;
  /** Its child processes (ffmpeg, lame, stdbuf, the launcher and what it started) as pids. */
  children(): number[];
  /** Resident memory of the node process, MB. */
  rssMb(): number;
  /** Stops it; rejects if anything reached its process guard meanwhile (each such line is a bug, whatever the test was about). */
  close(): Promise<void>;
}

export async function startStationProcess(env: Record<string, string>, opts: { nofile?: number } = {}): Promise<StationProcess> {
  const port = await freePort();
  const node = `${JSON.stringify(process.execPath)} --import tsx src/main.ts`;
  const script = opts.nofile ? `ulimit -n ${opts.nofile} && exec ${node}` : `exec ${node}`;
  const child = spawn('sh', ['-c', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'info', HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const watch = new Watch();
  let stray = '';
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    partial += d.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        stray += `${line}\n`;
      }
      if (process.env.SCAST_TEST_LOGS) process.stderr.write(`${line}\n`);
    }
    watch.changed();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stray += d.toString();
  });
  const pid = child.pid!;
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const p: StationProcess = {
    child,
    pid,
    port,
    url: `http://127.0.0.1:${port}`,
    lines,
    find: (re) => lines.filter((l) => re.test(String(l.msg))),
    when: (what, check, ms) => watch.when(what, check, ms),
    stray: () => stray,
    alive,
    fds: () => readdirSync(`/proc/${pid}/fd`).length,
    children: () => childrenOf(pid),
    rssMb: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024,
    close: async () => {
      await stopChild(child, 'SIGTERM');
      const faults = lines.filter((l) => /caught by the process guard/.test(String(l.msg)));
      if (faults.length > 0) throw new Error(`the station's process guard caught: ${faults.map((l) => String(l.stack ?? l.err)).join('\n---\n')}`);
    },
  };
  try {
    await until(
      'the station listening',
      () =>
        !alive()
          ? Promise.reject(new Error(`station exited: ${stray}`))
          : lines.some((l) => String(l.msg).startsWith('tune in') || /no playlists yet/.test(String(l.msg)))
            ? true
            : undefined,
      30_000,
    );
  } catch (err) {
    await p.close().catch(() => undefined);
    throw err;
  }
  return p;
}

/** Direct children of `pid`, from /proc. */
export function childrenOf(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* exited */
    }
  }
  // Descendants, not only children: ffmpeg is started by the station's launcher process (src/ffmpeg/launcher.ts).
  const found: number[] = [];
  const under = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [child, parent] of parents) {
      if (under.has(parent) && !under.has(child)) {
        under.add(child);
        found.push(child);
        grew = true;
      }
    }
  }
  return found;
}

/**
 * The listener an attack must not disturb: from an address of its own
 * (127.0.0.2, outside the per-address cap the attack fills), returned once
 * the burst sent on connect has played out, so what arrives from then on
 * comes at real-time rate.
 */
export async function steadyListener(url: string): Promise<Listener> {
  const listener = await listen(url, { localAddress: '127.0.0.2' });
  await listener.when('the burst played out', () => (listener.bytes > 80_000 ? true : undefined), 10_000);
  return listener;
}

/**
 * Watches a listener's byte count: the rate over a window as a share of the
 * nominal bitrate, and the longest gap between arrivals.
 */
export function rateWatch(listener: { bytes: number; arrivals: { at: number; offset: number }[] }, bitrateKbps: number) {
  const start = { at: Date.now(), bytes: listener.bytes };
  return {
    /**
     * Milliseconds of audio the listener is short of real time since the watch
     * began. The pacer may send up to PACING_LEAD_MS (500 by default) ahead, so anything
     * within that is full rate, however short the window.
     */
    deficitMs(): number {
      const seconds = (Date.now() - start.at) / 1000;
      const bytesPerMs = (bitrateKbps * 1000) / 8 / 1000;
      return Math.max(0, seconds * 1000 - (listener.bytes - start.bytes) / bytesPerMs);
    },
    /**
     * The bytes between the first and the last arrival since the watch began, over the time between
     * them, against the bitrate: whole chunks only, so a short window is not off by a chunk (a tick,
     * 250 ms on songs) that arrived just before or after one of its edges.
     */
    steadyShare(): number {
      const arr = listener.arrivals.filter((a) => a.at >= start.at);
      if (arr.length < 2) return 0;
      const first = arr[0]!;
      const last = arr[arr.length - 1]!;
      return (last.offset - first.offset) / (((last.at - first.at) / 1000) * ((bitrateKbps * 1000) / 8));
    },
    /** Bytes received since the watch began over what real time at the bitrate would give. */
    share(): number {
      const seconds = (Date.now() - start.at) / 1000;
      return (listener.bytes - start.bytes) / ((seconds * bitrateKbps * 1000) / 8);
    },
    maxGapMs(): number {
      const arr = listener.arrivals.filter((a) => a.at >= start.at);
      let worst = 0;
      for (let i = 1; i < arr.length; i++) worst = Math.max(worst, arr[i]!.at - arr[i - 1]!.at);
      return arr.length ? Math.max(worst, Date.now() - arr[arr.length - 1]!.at) : Date.now() - start.at;
    },
  };
}

/** The most descriptors `station` has held, sampled every 20 ms until `stop()`. */
export function peakDescriptors(station: StationProcess): { peak(): number; stop(): void } {
  let peak = 0;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, station.fds());
    } catch {
      /* exited: the tests say so */
    }
  }, 20);
  return { peak: () => peak, stop: () => clearInterval(timer) };
}
