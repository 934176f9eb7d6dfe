import { existsSync } from 'node:fs';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { FromWorker, ToWorker } from './lame-pool-messages.js';

/** A session on a worker, as the encoder sees any encoder process. */
export interface PooledEncoder {
  input: Writable;
  output: Readable;
  kill(): void;
  exited: Promise<string | null>;
}

interface Session {
  output: PassThrough;
  finish(problem: string | null): void;
}

interface Slot {
  worker: Worker;
  sessions: Map<number, Session>;
}

/**
 * Worker threads running channels' libmp3lame encoders, so that LAME (about
 * 0.9 % of a core per channel at 128 kbit/s) is not on the main thread,
 * where every channel's mix, clock and outputs already run: with a hundred
 * channels the main thread alone would be more than a core. Each encoder
 * is a session on the least loaded worker; PCM goes over and MP3 comes back
 * as transferred buffers, a message each way per tick. A worker that dies
 * fails its sessions (their channels restart them, on a new worker), and
 * nothing else.
 */
export class LamePool {
  private readonly slots: (Slot | null)[];
  private nextId = 1;

  constructor(
    readonly size: number,
    private readonly log?: Logger,
  ) {
    this.slots = Array.from({ length: size }, () => null);
  }

  /** Sessions open on each worker. */
  get load(): number[] {
    return this.slots.map((s) => s?.sessions.size ?? 0);
  }

  open(path: string, bitrateKbps: number): PooledEncoder {
    const slot = this.leastLoaded();
    const id = this.nextId++;
    const output = new PassThrough();
    let open = true;
    let done!: (problem: string | null) => void;
    const exited = new Promise<string | null>((resolve) => {
      done = resolve;
    });
    const finish = (problem: string | null): void => {
      if (!open) return;
      open = false;
      slot.sessions.delete(id);
      output.end();
      done(problem);
    };
    const send = (m: ToWorker, transfer: ArrayBuffer[] = []): void => slot.worker.postMessage(m, transfer);
    const stop = (why: string): void => {
      if (!open) return;
      send({ t: 'kill', id });
      finish(why);
    };
    slot.sessions.set(id, { output, finish });
    send({ t: 'open', id, path, bitrate: bitrateKbps });
    const input = new Writable({
      highWaterMark: 256 * 1024,
      // Ended, it waits for the worker's flush and exit; only an explicit destroy() stops it.
      autoDestroy: false,
      write(chunk: Buffer, _encoding, callback) {
        if (open) {
          // A copy of its own to transfer: the same PCM goes on to the channel's other encoders.
          const own = new Uint8Array(chunk.length);
          own.set(chunk);
          send({ t: 'pcm', id, bytes: own.buffer }, [own.buffer]);
        }
        callback();
      },
      final(callback) {
        if (open) send({ t: 'end', id });
        callback();
      },
      destroy(_err, callback) {
        stop('stopped');
        callback(null);
      },
    });
    return { input, output, kill: () => stop('killed'), exited };
  }

  /** Stop every worker (the station is closing); their sessions fail. */
  async close(): Promise<void> {
    await Promise.all(this.slots.flatMap((s) => (s ? [s.worker.terminate()] : [])));
  }

  private leastLoaded(): Slot {
    let best = 0;
    for (let i = 0; i < this.slots.length; i++) if ((this.slots[i]?.sessions.size ?? 0) < (this.slots[best]?.sessions.size ?? 0)) best = i;
    return (this.slots[best] ??= this.spawn(best));
  }

  private spawn(index: number): Slot {
    const file = workerFile();
    // Run from the TypeScript source (the tests, under tsx): node 20 does not carry tsx's loader into a worker, so it registers it first.
    const worker = file.pathname.endsWith('.ts')
      ? new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(file.href)}); });`, { eval: true })
      : new Worker(file);
    // It holds nothing the process must wait for: the encoders' own lifecycles do.
    worker.unref();
    const slot: Slot = { worker, sessions: new Map() };
    worker.on('message', (m: FromWorker) => {
      const session = slot.sessions.get(m.id);
      if (!session) return;
      if (m.t === 'data') session.output.write(Buffer.from(m.bytes));
      else session.finish(m.problem);
    });
    const gone = (why: string): void => {
      if (this.slots[index] === slot) this.slots[index] = null;
      if (slot.sessions.size > 0) this.log?.error({ worker: index, sessions: slot.sessions.size, why }, 'LAME worker stopped; its encoders restart');
      for (const s of [...slot.sessions.values()]) s.finish(`LAME worker stopped: ${why}`);
    };
    worker.on('error', (err) => gone(err.message));
    worker.on('exit', (code) => gone(`exit code ${code}`));
    return slot;
  }
}

/** The worker's file: beside this module in the source tree, under dist/src/encode once bundled (this code then lives in main.js or a chunk). */
function workerFile(): URL {
  for (const rel of ['./lame-worker.js', './lame-worker.ts', './encode/lame-worker.js', '../src/encode/lame-worker.js']) {
    const url = new URL(rel, import.meta.url);
    if (existsSync(url)) return url;
  }
  throw new Error(`lame-worker not found near ${import.meta.url}`);
}
