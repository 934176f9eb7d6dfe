import { createRequire } from 'node:module';

/** Debian's names for the two libraries (packages libopus0, libsoxr0: ffmpeg's own dependencies). */
export const OPUS_LIBRARY = 'libopus.so.0';
export const SOXR_LIBRARY = 'libsoxr.so.0';

/** Opus always runs at 48 kHz inside; a 20 ms frame. */
export const OPUS_RATE = 48000;
export const OPUS_FRAME = 960;

interface Koffi {
  load(path: string): { func(signature: string): (...args: unknown[]) => unknown };
  struct(name: string, fields: Record<string, string>): unknown;
  alloc(type: string, n: number): unknown;
  decode(ptr: unknown, type: string): unknown;
}

/** The few libopus and libsoxr calls the encoder makes, bound through koffi. */
export interface OpusCalls {
  create(rate: number, channels: number, application: number, error: number[]): unknown;
  ctl(st: unknown, request: number, ...args: unknown[]): number;
  encode(st: unknown, pcm: Int16Array, frameSize: number, out: Uint8Array, max: number): number;
  destroy(st: unknown): void;
  /** OPUS_GET_LOOKAHEAD: samples the encoder delays its output by (the stream's pre-skip). */
  lookahead(st: unknown): number;
  version(): string;
  resampler(inRate: number, outRate: number, channels: number): Resampler;
}

export interface Resampler {
  /** Interleaved s16 in, interleaved s16 out (what is ready; the rest comes with the next call). */
  process(input: Int16Array, frames: number): Int16Array;
  /** What the resampler still holds (its filter's tail): the end of the input. */
  flush(): Int16Array;
  close(): void;
}

const OPUS_GET_LOOKAHEAD = 4027;
const SOXR_INT16_I = 3;

let loaded: { key: string; calls: OpusCalls } | null = null;

/**
 * libopus and libsoxr loaded into this process (koffi: prebuilt, no
 * compiler). Opus takes 48 kHz only; soxr (the resampler ffmpeg itself uses
 * for this) brings the station's 44.1 kHz to it. Throws when either cannot
 * be loaded.
 */
export function opusLibrary(opusPath = OPUS_LIBRARY, soxrPath = SOXR_LIBRARY): OpusCalls {
  const key = `${opusPath}\n${soxrPath}`;
  if (loaded?.key === key) return loaded.calls;
  const require = createRequire(import.meta.url);
  const koffi = require('koffi') as Koffi;
  const opus = koffi.load(opusPath);
  const soxr = koffi.load(soxrPath);
  const create = opus.func('void *opus_encoder_create(int Fs, int channels, int application, _Out_ int *error)') as OpusCalls['create'];
  const ctl = opus.func('int opus_encoder_ctl(void *st, int request, ...)') as (...args: unknown[]) => number;
  const encode = opus.func('int opus_encode(void *st, int16_t *pcm, int frame_size, uint8_t *data, int max_data_bytes)') as OpusCalls['encode'];
  const destroy = opus.func('void opus_encoder_destroy(void *st)') as OpusCalls['destroy'];
  const version = opus.func('const char *opus_get_version_string()') as () => string;
  koffi.struct('scast_soxr_io_spec', { itype: 'int', otype: 'int', scale: 'double', e: 'void *', flags: 'unsigned long' });
  const soxrCreate = soxr.func(
    'void *soxr_create(double input_rate, double output_rate, unsigned int num_channels, _Out_ const char **error, const scast_soxr_io_spec *io_spec, void *quality_spec, void *runtime_spec)',
  ) as (...args: unknown[]) => unknown;
  const soxrProcess = soxr.func(
    'const char *soxr_process(void *resampler, int16_t *in, size_t ilen, _Out_ size_t *idone, _Out_ int16_t *out, size_t olen, _Out_ size_t *odone)',
  ) as (...args: unknown[]) => string | null;
  const soxrDelete = soxr.func('void soxr_delete(void *resampler)') as (r: unknown) => void;
  const calls: OpusCalls = {
    create,
    ctl: (st, request, ...args) => ctl(st, request, ...args),
    encode,
    destroy,
    version,
    lookahead(st) {
      const out = koffi.alloc('int', 1);
      if (ctl(st, OPUS_GET_LOOKAHEAD, 'int *', out) !== 0) throw new Error('OPUS_GET_LOOKAHEAD refused');
      return koffi.decode(out, 'int') as number;
    },
    resampler(inRate, outRate, channels) {
      const error: (string | null)[] = [null];
      // Quality spec null: soxr's HQ (20-bit, what ffmpeg's soxr option gives).
      const r = soxrCreate(inRate, outRate, channels, error, { itype: SOXR_INT16_I, otype: SOXR_INT16_I, scale: 1, e: null, flags: 0 }, null, null);
      if (!r || error[0]) throw new Error(`soxr_create: ${error[0] ?? 'failed'}`);
      let open = true;
      const done = [0];
      const made = [0];
      return {
        process(input, frames) {
          // Enough room for the ratio plus what soxr held back from earlier calls.
          const room = Math.ceil((frames * outRate) / inRate) + 1024;
          const out = new Int16Array(room * channels);
          const problem = soxrProcess(r, input, frames, done, out, room, made);
          if (problem) throw new Error(`soxr_process: ${problem}`);
          return out.subarray(0, made[0]! * channels);
        },
        flush() {
          const room = 4096;
          const out = new Int16Array(room * channels);
          const problem = soxrProcess(r, null, 0, done, out, room, made);
          if (problem) throw new Error(`soxr_process: ${problem}`);
          return out.subarray(0, made[0]! * channels);
        },
        close() {
          if (open) soxrDelete(r);
          open = false;
        },
      };
    },
  };
  loaded = { key, calls };
  return calls;
}
