import { createRequire } from 'node:module';

/** Debian's names for ffmpeg's libraries (packages libavcodec59, libavutil57: ffmpeg itself depends on them). */
export const AVCODEC_LIBRARY = 'libavcodec.so.59';
export const AVUTIL_LIBRARY = 'libavutil.so.57';
/**
 * For copying samples in and packets out, with native addresses passed as
 * plain integers: koffi 2.16 never gave back the memory of an ArrayBuffer
 * from koffi.view (~300 KB a second of audio) nor of a pointer object
 * decoded from a struct (~600 bytes a frame), both measured; integers cost
 * nothing to collect.
 */
const LIBC = 'libc.so.6';

/**
 * The ABI these offsets belong to. Public struct fields never move within a
 * major version (FFmpeg's rule), so the offsets below, read from the 5.1
 * headers with offsetof, hold for every libavcodec 59 / libavutil 57; any
 * other major is refused and AAC goes to the ffmpeg process instead.
 */
const AVCODEC_MAJOR = 59;
const AVUTIL_MAJOR = 57;
const CTX = { bitRate: 56, timeBase: 100, sampleRate: 352, sampleFmt: 360, frameSize: 364, initialPadding: 708, chLayout: 920 } as const;
const FRAME = { data: 0, nbSamples: 112, format: 116, chLayout: 448 } as const;
const PACKET = { data: 24, size: 32 } as const;
/** AV_SAMPLE_FMT_FLTP: what ffmpeg's AAC encoder takes. */
const SAMPLE_FMT_FLTP = 8;
/** AVChannelLayout { order: AV_CHANNEL_ORDER_NATIVE, nb_channels, u.mask }. */
const CHANNEL_ORDER_NATIVE = 1;
const STEREO_MASK = 0x3n;
const MONO_MASK = 0x4n;
const EAGAIN = -11;
/** AVERROR_EOF: FFERRTAG('E','O','F',' '). */
const AVERROR_EOF = -0x20464f45;
const AV_OPT_SEARCH_CHILDREN = 1;
const AV_LOG_QUIET = -8;

interface Koffi {
  load(path: string): { func(signature: string): (...args: unknown[]) => unknown };
  decode(ptr: unknown, offset: number, type: string, len?: number): unknown;
  encode(ptr: unknown, offset: number, type: string, value: unknown): void;
}

/**
 * ffmpeg's AAC coder for a bitrate. Its documentation: "fast" is "worse
 * with low bitrates (less than 64kbps), but is better and much faster at
 * higher bitrates" than the default "twoloop". Measured here, 64 kbit/s
 * stereo: twoloop 0.91 % of a core on a music-like signal (1.33 % on
 * tones), fast 0.68 % (0.88 %).
 */
export function aacCoderFor(bitrateKbps: number): 'twoloop' | 'fast' {
  return bitrateKbps >= 64 ? 'fast' : 'twoloop';
}

export interface AacEncoderSettings {
  sampleRate: number;
  channels: 1 | 2;
  bitrateKbps: number;
  /** The encoder's coder: 'twoloop' (ffmpeg's default) or 'fast'. */
  coder?: 'twoloop' | 'fast';
}

/** One libavcodec AAC-LC encoder: planar float frames in, raw AAC packets out. */
export interface AacEncoder {
  /** Samples per frame (1024). */
  readonly frameSize: number;
  /** Samples of priming before the first real one (1024). */
  readonly delay: number;
  /** Encode one frame: `planes[c]` holds `frameSize` samples of channel c (fewer for the last one). Returns the packets ready. */
  encode(planes: Float32Array[]): Buffer[];
  /** Everything still inside the encoder. */
  flush(): Buffer[];
  close(): void;
}

export interface AvcodecCalls {
  version(): string;
  aacEncoder(settings: AacEncoderSettings): AacEncoder;
}

let loaded: { key: string; calls: AvcodecCalls } | null = null;

/**
 * ffmpeg's AAC encoder in this process (koffi: prebuilt, no compiler), so an
 * AAC rendition costs the encoding and nothing else: no process, no pipes,
 * no PCM written out and ADTS read back. Throws when the libraries cannot
 * be loaded or are not the ABI the offsets were read from.
 */
export function avcodecLibrary(avcodecPath = AVCODEC_LIBRARY, avutilPath = AVUTIL_LIBRARY): AvcodecCalls {
  const key = `${avcodecPath}\n${avutilPath}`;
  if (loaded?.key === key) return loaded.calls;
  const require = createRequire(import.meta.url);
  const koffi = require('koffi') as Koffi;
  const avutil = koffi.load(avutilPath);
  const avcodec = koffi.load(avcodecPath);
  const libc = koffi.load(LIBC);
  const avcodecVersion = avcodec.func('unsigned int avcodec_version()') as () => number;
  const avutilVersion = avutil.func('unsigned int avutil_version()') as () => number;
  const codecMajor = avcodecVersion() >>> 16;
  const utilMajor = avutilVersion() >>> 16;
  if (codecMajor !== AVCODEC_MAJOR || utilMajor !== AVUTIL_MAJOR) {
    throw new Error(`libavcodec ${codecMajor} / libavutil ${utilMajor}: only ${AVCODEC_MAJOR} / ${AVUTIL_MAJOR} (ffmpeg 5.x) are known here`);
  }
  // The encoder's own log lines ("Qavg: ...") would go to stderr beside the station's structured log: errors come back as codes.
  const logLevel = avutil.func('void av_log_set_level(int level)') as (level: number) => void;
  logLevel(AV_LOG_QUIET);
  const f = {
    findEncoder: avcodec.func('void *avcodec_find_encoder_by_name(const char *name)') as (name: string) => unknown,
    allocContext: avcodec.func('void *avcodec_alloc_context3(void *codec)') as (codec: unknown) => unknown,
    freeContext: avcodec.func('void avcodec_free_context(_Inout_ void **ctx)') as (ctx: unknown[]) => void,
    open: avcodec.func('int avcodec_open2(void *ctx, void *codec, void *options)') as (ctx: unknown, codec: unknown, options: null) => number,
    sendFrame: avcodec.func('int avcodec_send_frame(void *ctx, void *frame)') as (ctx: unknown, frame: unknown) => number,
    receivePacket: avcodec.func('int avcodec_receive_packet(void *ctx, void *pkt)') as (ctx: unknown, pkt: unknown) => number,
    packetAlloc: avcodec.func('void *av_packet_alloc()') as () => unknown,
    packetUnref: avcodec.func('void av_packet_unref(void *pkt)') as (pkt: unknown) => void,
    packetFree: avcodec.func('void av_packet_free(_Inout_ void **pkt)') as (pkt: unknown[]) => void,
    frameAlloc: avutil.func('void *av_frame_alloc()') as () => unknown,
    frameGetBuffer: avutil.func('int av_frame_get_buffer(void *frame, int align)') as (frame: unknown, align: number) => number,
    frameUnref: avutil.func('void av_frame_unref(void *frame)') as (frame: unknown) => void,
    frameFree: avutil.func('void av_frame_free(_Inout_ void **frame)') as (frame: unknown[]) => void,
    optSet: avutil.func('int av_opt_set(void *obj, const char *name, const char *val, int flags)') as (
      obj: unknown,
      n: string,
      v: string,
      fl: number,
    ) => number,
    copyIn: libc.func('void memcpy(uintptr_t dst, const void *src, size_t n)') as (dst: number, src: Float32Array, n: number) => void,
    copyOut: libc.func('void memcpy(void *dst, uintptr_t src, size_t n)') as (dst: Buffer, src: number, n: number) => void,
    strerror: avutil.func('int av_strerror(int errnum, _Out_ char *buf, size_t size)') as (e: number, buf: Buffer, n: number) => number,
  };
  const describe = (code: number): string => {
    const buf = Buffer.alloc(128);
    f.strerror(code, buf, buf.length);
    return `${buf.toString('latin1', 0, buf.indexOf(0))} (${code})`;
  };
  const writeLayout = (ptr: unknown, offset: number, channels: number): void => {
    koffi.encode(ptr, offset, 'int', CHANNEL_ORDER_NATIVE);
    koffi.encode(ptr, offset + 4, 'int', channels);
    koffi.encode(ptr, offset + 8, 'uint64_t', channels === 2 ? STEREO_MASK : MONO_MASK);
  };
  const calls: AvcodecCalls = {
    version: () => {
      const v = avcodecVersion();
      return `libavcodec ${v >>> 16}.${(v >> 8) & 0xff}.${v & 0xff}`;
    },
    aacEncoder(s) {
      const codec = f.findEncoder('aac');
      if (!codec) throw new Error('libavcodec has no AAC encoder');
      const ctx = f.allocContext(codec);
      if (!ctx) throw new Error('avcodec_alloc_context3 failed');
      const frame = f.frameAlloc();
      const packet = f.packetAlloc();
      const release = (): void => {
        f.frameFree([frame]);
        f.packetFree([packet]);
        f.freeContext([ctx]);
      };
      try {
        koffi.encode(ctx, CTX.bitRate, 'int64_t', BigInt(s.bitrateKbps * 1000));
        koffi.encode(ctx, CTX.sampleRate, 'int', s.sampleRate);
        koffi.encode(ctx, CTX.sampleFmt, 'int', SAMPLE_FMT_FLTP);
        koffi.encode(ctx, CTX.timeBase, 'int', 1);
        koffi.encode(ctx, CTX.timeBase + 4, 'int', s.sampleRate);
        writeLayout(ctx, CTX.chLayout, s.channels);
        const coder = f.optSet(ctx, 'aac_coder', s.coder ?? 'twoloop', AV_OPT_SEARCH_CHILDREN);
        if (coder < 0) throw new Error(`aac_coder ${s.coder}: ${describe(coder)}`);
        const opened = f.open(ctx, codec, null);
        if (opened < 0) throw new Error(`avcodec_open2: ${describe(opened)}`);
      } catch (err) {
        release();
        throw err;
      }
      const frameSize = koffi.decode(ctx, CTX.frameSize, 'int') as number;
      const delay = koffi.decode(ctx, CTX.initialPadding, 'int') as number;
      let open = true;
      /** Every packet the encoder has ready. */
      const drain = (): Buffer[] => {
        const out: Buffer[] = [];
        for (;;) {
          const r = f.receivePacket(ctx, packet);
          if (r === EAGAIN || r === AVERROR_EOF) return out;
          if (r < 0) throw new Error(`avcodec_receive_packet: ${describe(r)}`);
          const size = koffi.decode(packet, PACKET.size, 'int') as number;
          // A copy: the packet's memory is the encoder's again after the unref.
          const copy = Buffer.allocUnsafe(size);
          f.copyOut(copy, koffi.decode(packet, PACKET.data, 'uintptr_t') as number, size);
          out.push(copy);
          f.packetUnref(packet);
        }
      };
      return {
        frameSize,
        delay,
        encode(planes) {
          if (!open) throw new Error('the AAC encoder is closed');
          const n = planes[0]!.length;
          koffi.encode(frame, FRAME.nbSamples, 'int', n);
          koffi.encode(frame, FRAME.format, 'int', SAMPLE_FMT_FLTP);
          writeLayout(frame, FRAME.chLayout, s.channels);
          const got = f.frameGetBuffer(frame, 0);
          if (got < 0) throw new Error(`av_frame_get_buffer: ${describe(got)}`);
          for (let c = 0; c < s.channels; c++) f.copyIn(koffi.decode(frame, FRAME.data + 8 * c, 'uintptr_t') as number, planes[c]!, n * 4);
          // The encoder takes its own reference to the buffers; this frame lets go of them.
          const sent = f.sendFrame(ctx, frame);
          f.frameUnref(frame);
          if (sent < 0) throw new Error(`avcodec_send_frame: ${describe(sent)}`);
          return drain();
        },
        flush() {
          if (!open) return [];
          const sent = f.sendFrame(ctx, null);
          if (sent < 0 && sent !== AVERROR_EOF) throw new Error(`avcodec_send_frame: ${describe(sent)}`);
          return drain();
        },
        close() {
          if (open) release();
          open = false;
        },
      };
    },
  };
  loaded = { key, calls };
  return calls;
}
