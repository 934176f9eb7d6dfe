import { createRequire } from 'node:module';
import { CHANNELS, SAMPLE_RATE } from '../audio/pcm.js';

/** The few libmp3lame calls the encoder makes, bound through koffi. */
interface LameCalls {
  init(): unknown;
  set(name: string, gfp: unknown, value: number): number;
  initParams(gfp: unknown): number;
  encode(gfp: unknown, pcm: Int16Array, samplesPerChannel: number, out: Uint8Array, size: number): number;
  flush(gfp: unknown, out: Uint8Array, size: number): number;
  close(gfp: unknown): number;
}

const libraries = new Map<string, LameCalls>();

/**
 * libmp3lame loaded into this process (koffi, an FFI with prebuilt binaries:
 * no compiler). Throws when koffi or the library cannot be loaded; the
 * caller then runs the `lame` program instead.
 */
export function lameLibrary(path: string): LameCalls {
  const known = libraries.get(path);
  if (known) return known;
  const require = createRequire(import.meta.url);
  const koffi = require('koffi') as { load(path: string): { func(signature: string): (...args: unknown[]) => unknown } };
  const lib = koffi.load(path);
  const setters = new Map<string, (gfp: unknown, v: number) => number>();
  const init = lib.func('void *lame_init()') as () => unknown;
  const initParams = lib.func('int lame_init_params(void *gfp)') as (gfp: unknown) => number;
  const encode = lib.func('int lame_encode_buffer_interleaved(void *gfp, int16_t *pcm, int n, uint8_t *mp3buf, int size)') as LameCalls['encode'];
  const flush = lib.func('int lame_encode_flush(void *gfp, uint8_t *mp3buf, int size)') as LameCalls['flush'];
  const close = lib.func('int lame_close(void *gfp)') as LameCalls['close'];
  const calls: LameCalls = {
    init,
    initParams,
    encode,
    flush,
    close,
    set(name, gfp, value) {
      let fn = setters.get(name);
      if (!fn) {
        fn = lib.func(`int ${name}(void *gfp, int value)`) as (gfp: unknown, v: number) => number;
        setters.set(name, fn);
      }
      return fn(gfp, value);
    },
  };
  libraries.set(path, calls);
  return calls;
}

/** LAME's MPEG_mode: JOINT_STEREO = 1, MONO = 3. */
const JOINT_STEREO = 1;
const MONO = 3;

/** An encoder in this process: PCM in by call, MP3 out through the callback given. */
export interface LameSession {
  /** Encode now; its MP3 bytes (if a frame completed) are passed on before this returns. */
  write(pcm: Buffer): void;
  /** Encode what LAME still holds, pass it on, and close. */
  end(): void;
  /** Close at once, dropping what LAME holds. */
  kill(): void;
  /** Resolves once closed: null after end(), else what stopped it. */
  exited: Promise<string | null>;
}

/**
 * The channel's encoder as a library call: PCM written is encoded at once
 * on this thread and its MP3 bytes handed to `onData` before `write`
 * returns, with the settings of the `lame` command line the station runs
 * otherwise (CBR, joint stereo, quality 3, no LAME tag): byte-identical MP3
 * (a test checks), without a second process, a pipe each way and their
 * wake-ups. Called directly rather than through a Writable and a Readable,
 * whose buffering, callbacks and deferred ticks a function call does not
 * need (one channel's CPU was the same within run-to-run noise either way,
 * docs/benchmarks.md); a caller that gets frames back while it writes must
 * expect them then (encode/splicing-encoding.ts's pump).
 */
export function lameInProcess(path: string, bitrateKbps: number, onData: (mp3: Buffer) => void): LameSession {
  const lame = lameLibrary(path);
  const gfp = lame.init();
  if (!gfp) throw new Error('lame_init failed');
  const settings: [string, number][] = [
    ['lame_set_num_channels', CHANNELS],
    ['lame_set_in_samplerate', SAMPLE_RATE],
    ['lame_set_out_samplerate', SAMPLE_RATE],
    ['lame_set_brate', bitrateKbps],
    ['lame_set_mode', CHANNELS === 2 ? JOINT_STEREO : MONO],
    ['lame_set_VBR', 0],
    ['lame_set_bWriteVbrTag', 0],
  ];
  for (const [name, value] of settings) {
    if (lame.set(name, gfp, value) < 0) {
      lame.close(gfp);
      throw new Error(`${name}(${value}) refused`);
    }
  }
  if (lame.initParams(gfp) < 0) {
    lame.close(gfp);
    throw new Error('lame_init_params refused the settings');
  }
  let open = true;
  let done!: (problem: string | null) => void;
  const exited = new Promise<string | null>((resolve) => {
    done = resolve;
  });
  const close = (problem: string | null): void => {
    if (!open) return;
    open = false;
    lame.close(gfp);
    done(problem);
  };
  /** A sample frame split across writes waits for its other half. */
  let carry: Buffer | null = null;
  const bytesPerFrame = 2 * CHANNELS;
  /**
   * LAME's output space, reused: a fresh 21 KB buffer per 250 ms call was an
   * ArrayBuffer outside V8's heap for the collector to track and free; the
   * ~4 KB copied out of it come from node's buffer pool.
   */
  let scratch = Buffer.allocUnsafe(0);
  return {
    write(chunk) {
      if (!open) return;
      let pcm = carry ? Buffer.concat([carry, chunk]) : chunk;
      const whole = pcm.length - (pcm.length % bytesPerFrame);
      carry = whole < pcm.length ? Buffer.from(pcm.subarray(whole)) : null;
      pcm = pcm.subarray(0, whole);
      const samples = whole / bytesPerFrame;
      if (samples === 0) return;
      // An Int16Array view needs an even offset; a pooled Buffer may not have one.
      const aligned = pcm.byteOffset % 2 === 0 ? pcm : Buffer.from(pcm);
      // LAME's documented worst case for this many samples.
      const room = Math.ceil(1.25 * samples) + 7200;
      if (scratch.length < room) scratch = Buffer.allocUnsafe(room);
      const n = lame.encode(gfp, new Int16Array(aligned.buffer, aligned.byteOffset, samples * CHANNELS), samples, scratch, room);
      if (n < 0) close(`lame_encode_buffer_interleaved returned ${n}`);
      else if (n > 0) onData(Buffer.from(scratch.subarray(0, n)));
    },
    end() {
      if (!open) return;
      const out = Buffer.allocUnsafe(7200);
      const n = lame.flush(gfp, out, out.length);
      if (n > 0) onData(out.subarray(0, n));
      close(null);
    },
    kill: () => close('killed'),
    exited,
  };
}
