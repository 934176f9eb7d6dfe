/**
 * The launcher: a small process that starts ffmpeg for the station and hands
 * each one's stdout and stderr back over the IPC channel (see launcher.ts).
 * It reads nothing of its children's output and holds none of their pipes
 * once handed over; it only forks, reports exits and passes on kills.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { FromLauncher, ToLauncher } from './launcher-messages.js';

const children = new Map<number, ChildProcess>();

function tell(message: FromLauncher, handle?: import('node:net').Socket): void {
  if (process.connected) process.send!(message, handle);
}

process.on('message', (m: ToLauncher) => {
  if (m.t === 'kill') {
    children.get(m.id)?.kill(m.signal);
    return;
  }
  let child: ChildProcess;
  try {
    // detached: a process group of its own, as every child of the station (CHILD_SPAWN); the environment is this process's, already stripped.
    child = spawn(m.command, m.args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  } catch (err) {
    tell({ t: 'error', id: m.id, code: (err as NodeJS.ErrnoException).code, message: (err as Error).message });
    return;
  }
  // A pipe's socket starts reading as it is made; what it read here would never reach the station (and
  // once handed over, node drops what the old handle still reads). Stopped now, in the same turn as the
  // spawn, nothing is read before the station's copy starts: ffmpeg's first bytes wait in the pipe.
  for (const pipe of [child.stdout, child.stderr]) (pipe as unknown as { _handle?: { readStop(): number } })._handle?.readStop();
  children.set(m.id, child);
  child.on('error', (err: NodeJS.ErrnoException) => {
    children.delete(m.id);
    tell({ t: 'error', id: m.id, code: err.code, message: err.message });
  });
  child.on('spawn', () => {
    // Sent, then closed here (keepOpen false): the station holds the only copies.
    tell({ t: 'stdout', id: m.id, pid: child.pid! }, child.stdout as import('node:net').Socket);
    tell({ t: 'stderr', id: m.id }, child.stderr as import('node:net').Socket);
  });
  child.on('exit', (code, signal) => {
    children.delete(m.id);
    tell({ t: 'exit', id: m.id, code, signal });
  });
});

// The station is gone: its decoders have no reader left, so they go too.
process.on('disconnect', () => {
  for (const child of children.values()) child.kill('SIGKILL');
  process.exit(0);
});
