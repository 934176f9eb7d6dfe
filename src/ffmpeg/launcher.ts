/**
 * ffmpeg started by a small helper process, not by the station itself.
 *
 * Starting a process forks the one that starts it, and a fork costs in
 * proportion to the parent's memory (its page tables are copied): 10.7 ms
 * of the station's main thread per decoder at ~700 MB, against 4.3 ms at
 * 60 MB (docs/benchmarks.md). A big station starts a decoder for every
 * song, and with 100 channels of short songs those forks were 15 % of a
 * core on the thread every channel's mix and clock run on, in bursts at
 * song changes. The launcher is a bare node process of ~40 MB: it forks
 * ffmpeg and hands its stdout and stderr back over the IPC channel as
 * sockets, so the station only reads, as before: a decoder of a 4 s song
 * cost the station 5.75 ms of CPU at ~700 MB against 9.87 spawned directly
 * (30 of them, through fluent-ffmpeg, reading included).
 *
 * Only a big station uses it (LAUNCHER_AFTER_CHANNELS): a fork costs 4.3 ms
 * at 60 MB, 6.3 at 171 and 8.0 at 294, so a small station would save about
 * nothing (6.26 against 6.89 ms at ~95 MB) and pay the launcher's own
 * memory (a second node: 25 MB of PSS), which its PSS figure cannot spare.
 *
 * It starts on first use and again after a crash (every process it had
 * started is then stopped and reported killed, so its song fails over as
 * for any dead decoder); after three crashes within a minute, or when it
 * cannot be started at all, the station spawns ffmpeg itself.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { childEnv } from './child-env.js';
import type { FromLauncher, ToLauncher } from './launcher-messages.js';

/** A process the launcher started: as much of a ChildProcess as fluent-ffmpeg and the station use. Emits `exit` (code, signal). */
export class LaunchedProcess extends EventEmitter {
  readonly stdin = null;
  stdout: Socket | null = null;
  stderr: Socket | null = null;
  pid: number | undefined;
  exited = false;

  constructor(private readonly signal: (signal: NodeJS.Signals) => void) {
    super();
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.exited) return false;
    this.signal(signal);
    return true;
  }
}

interface Launch {
  process: LaunchedProcess;
  ready: (process: LaunchedProcess) => void;
  failed: (err: Error) => void;
  handedOver: boolean;
}

const CRASHES_TOLERATED = 3;
const CRASH_WINDOW_MS = 60_000;

export class Launcher {
  private child: ChildProcess | null = null;
  private nextId = 1;
  private readonly launches = new Map<number, Launch>();
  private crashes: number[] = [];
  /** Given up on: ffmpeg is spawned by the station itself from now on. */
  disabled = false;

  constructor(private readonly file: string) {}

  private get log(): Logger | undefined {
    return logger;
  }

  /** The launcher's own process id while it runs (tests, diagnostics). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Processes started and not yet reported exited. */
  get running(): number {
    return this.launches.size;
  }

  /**
   * Start `command`; `ready` gets the process once its pipes are here, or
   * `failed` why it could not start. False (nothing started) when the
   * launcher cannot be used: the caller spawns the process itself.
   */
  launch(command: string, args: string[], ready: (process: LaunchedProcess) => void, failed: (err: Error) => void): boolean {
    const child = this.ensure();
    if (!child) return false;
    const id = this.nextId++;
    const proc = new LaunchedProcess((signal) => {
      if (this.child === child && child.connected) this.send(child, { t: 'kill', id, signal });
    });
    this.launches.set(id, { process: proc, ready, failed, handedOver: false });
    child.channel?.ref();
    this.send(child, { t: 'spawn', id, command, args });
    return true;
  }

  /** Stop the launcher (the station is closing); what it started is stopped with it. */
  close(): void {
    this.disabled = true;
    this.child?.disconnect();
  }

  private send(child: ChildProcess, message: ToLauncher): void {
    try {
      child.send(message);
    } catch {
      // The channel closed under us: the launcher's exit handler fails what was pending.
    }
  }

  private ensure(): ChildProcess | null {
    if (this.disabled) return null;
    if (this.child) return this.child;
    let child: ChildProcess;
    try {
      child = fork(this.file, [], {
        // Its children inherit this stripped environment (see CHILD_SPAWN).
        env: childEnv(),
        execArgv: this.file.endsWith('.ts') ? ['--import', 'tsx'] : [],
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        detached: true,
      });
    } catch (err) {
      this.giveUp(`cannot start: ${(err as Error).message}`);
      return null;
    }
    this.child = child;
    // It keeps the station alive only while processes it started run (see launch and the exit message).
    child.unref();
    child.channel?.unref();
    child.on('message', (m: FromLauncher, handle?: Socket) => this.receive(m, handle));
    child.on('error', (err) => {
      this.log?.warn({ err: err.message }, 'ffmpeg launcher error');
      // It never started (no descriptors or processes left): no 'exit' follows, so what waits on it fails now.
      if (child.pid === undefined)
        this.lost(child, null, null, `the ffmpeg launcher could not start (spawn ${(err as NodeJS.ErrnoException).code ?? err.message})`);
    });
    child.on('exit', (code, signal) => this.lost(child, code, signal));
    return child;
  }

  private receive(m: FromLauncher, handle: Socket | undefined): void {
    const launch = this.launches.get(m.id);
    if (!launch) {
      handle?.destroy();
      return;
    }
    const p = launch.process;
    if (m.t === 'stdout') {
      p.stdout = handle ?? null;
      p.pid = m.pid;
    } else if (m.t === 'stderr') {
      p.stderr = handle ?? null;
      if (p.stdout && p.stderr) {
        launch.handedOver = true;
        launch.ready(p);
      }
    } else if (m.t === 'error') {
      this.finish(m.id);
      p.stdout?.destroy();
      launch.failed(Object.assign(new Error(`spawn ${m.code ?? 'failed'}: ${m.message}`), { code: m.code, syscall: 'spawn' }));
    } else {
      this.finish(m.id);
      p.exited = true;
      p.emit('exit', m.code, m.signal);
    }
  }

  private finish(id: number): void {
    this.launches.delete(id);
    if (this.launches.size === 0) this.child?.channel?.unref();
  }

  /** The launcher exited: what it started is stopped and reported; the next launch starts another. */
  private lost(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null, why = 'the ffmpeg launcher stopped before the process started'): void {
    if (this.child !== child) return;
    this.child = null;
    const launches = [...this.launches.entries()];
    this.launches.clear();
    for (const [, launch] of launches) {
      const p = launch.process;
      if (!launch.handedOver) {
        p.stdout?.destroy();
        p.stderr?.destroy();
        launch.failed(new Error(why));
        continue;
      }
      if (p.pid) {
        try {
          globalThis.process.kill(p.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      p.exited = true;
      p.emit('exit', null, 'SIGKILL');
    }
    if (this.disabled) return;
    const now = Date.now();
    this.crashes = [...this.crashes.filter((t) => now - t < CRASH_WINDOW_MS), now];
    this.log?.warn({ code, signal, stopped: launches.length }, 'the ffmpeg launcher stopped; its processes were stopped with it');
    if (this.crashes.length >= CRASHES_TOLERATED) this.giveUp(`stopped ${this.crashes.length} times within a minute`);
  }

  private giveUp(why: string): void {
    this.disabled = true;
    this.log?.error({ why }, 'ffmpeg launcher given up: the station starts ffmpeg itself from now on');
  }
}

/** A station with more channels than this starts its ffmpeg through the launcher (as it moves its encoders to worker threads). */
export const LAUNCHER_AFTER_CHANNELS = 32;

let shared: Launcher | null | undefined;
let wanted: () => boolean = () => false;
let logger: Logger | undefined;

/** When the station wants the launcher (asked at each start of ffmpeg; until set, never: other commands spawn ffmpeg themselves), and where it reports its crashes. */
export function launchWhen(predicate: () => boolean, log?: Logger): void {
  wanted = predicate;
  logger = log;
}

/** The station's launcher, or null where it is not wanted, its file is missing or it was given up on. */
export function sharedLauncher(): Launcher | null {
  if (!wanted()) return null;
  if (shared === undefined) {
    const file = launcherFile();
    shared = file ? new Launcher(file) : null;
  }
  return shared && !shared.disabled ? shared : null;
}

/** Beside this module in the source tree, under dist/src/ffmpeg once bundled (this code then lives in main.js or a chunk). */
function launcherFile(): string | null {
  for (const rel of ['./launcher-process.js', './launcher-process.ts', './ffmpeg/launcher-process.js', '../src/ffmpeg/launcher-process.js']) {
    const url = new URL(rel, import.meta.url);
    if (existsSync(url)) return fileURLToPath(url);
  }
  return null;
}
