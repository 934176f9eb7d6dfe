import { PassThrough } from 'node:stream';
import { BYTES_PER_PCM_FRAME, isAudible } from '../audio/pcm.js';
import { AutoGain } from '../audio/loudness-meter.js';
import { PcmDecoder } from '../decode/decoder.js';
import type { StreamInput } from '../ffmpeg/input.js';
import type { PcmFeed } from '../playout/sources/source.js';

/** Encoded audio held between the DJ's socket and the decoder; past it the socket is paused (TCP pushes back). */
const INPUT_HIGH_WATER = 64 * 1024;

/** A stream's padded last frame decodes to near-silence with a faint ring: under -45 dBFS is tail, not show. */
const TAIL_THRESHOLD = Math.round(32768 * 10 ** (-45 / 20));

export interface LiveInputOptions {
  decoderPath: string;
  /** LUFS to bring the show to (the channel's loudness target); none: its level as sent. */
  loudnessTarget?: number | undefined;
  format: StreamInput['format'];
  /** Milliseconds now, monotonic. */
  now: () => number;
}

/**
 * A DJ's audio on its way to the air: bytes from their connection into a
 * decoder, PCM out on demand (a PcmFeed for the mixer). Memory is bounded
 * whatever the client does: a client sending faster than real time fills
 * the small buffers and is then read no faster than the air plays.
 * Remembers when bytes last came, when audio was last taken, and when it
 * was last audible, for the ingest's timeouts.
 */
export class LiveInput implements PcmFeed {
  private readonly pipe = new PassThrough({ highWaterMark: INPUT_HIGH_WATER });
  private readonly decoder: PcmDecoder;
  lastBytesAt: number;
  lastTakenAt: number;
  lastAudibleAt: number;
  bytesIn = 0;
  /** Audio has been taken (the show is on air). */
  taken = false;

  /** Follows the show's level as it is taken, toward the channel's loudness. */
  readonly autoGain: AutoGain | null;

  constructor(private readonly opts: LiveInputOptions) {
    this.autoGain = opts.loudnessTarget === undefined ? null : new AutoGain({ target: opts.loudnessTarget });
    this.decoder = new PcmDecoder(opts.decoderPath, { stream: this.pipe, format: opts.format });
    this.lastBytesAt = this.lastTakenAt = this.lastAudibleAt = opts.now();
    // The decoder exiting early (undecodable input) must not leave an 'error' unhandled on the pipe.
    this.pipe.on('error', () => {});
  }

  /** Feed bytes from the connection; false: stop reading it until `drained`. */
  write(chunk: Buffer): boolean {
    this.bytesIn += chunk.length;
    this.lastBytesAt = this.opts.now();
    if (this.pipe.destroyed || this.pipe.writableEnded) return true;
    return this.pipe.write(chunk);
  }

  onDrain(fn: () => void): void {
    this.pipe.on('drain', fn);
  }

  /** The connection ended: decode what is left, then the feed ends. */
  end(): void {
    if (!this.pipe.writableEnded) this.pipe.end();
  }

  /**
   * A client sending faster than real time (a burst after a stall, a file
   * pushed without pacing) would put the show ever further behind the live
   * edge: past `maxBytes` of decoded audio waiting, the oldest is dropped,
   * as Liquidsoap's harbor does past its `max`. Returns the bytes dropped.
   */
  keepUp(maxBytes: number): number {
    if (this.remaining !== null || this.decoder.error) return 0;
    const ahead = this.decoder.lookahead(Infinity);
    if (ahead <= maxBytes) return 0;
    const excess = ahead - maxBytes;
    const dropped = this.decoder.take(excess - (excess % BYTES_PER_PCM_FRAME));
    return dropped?.length ?? 0;
  }

  /** Resolves when the decoder has exited. */
  get done(): Promise<void> {
    return this.decoder.done;
  }

  /**
   * Bytes left to play once the DJ has left: what is decoded, less its
   * silent tail (a stream's last MP3 frame is padded with silence, and no
   * gapless header says how much), so the playlist joins at the last sound.
   */
  private left(): number {
    if (this.remaining === null && this.decoder.complete) {
      this.remaining = Math.max(0, this.decoder.lookahead(Infinity) - this.decoder.trailingSilence(TAIL_THRESHOLD));
    }
    return this.remaining ?? Infinity;
  }
  private remaining: number | null = null;

  take(maxBytes: number): Buffer | null {
    const left = this.left();
    if (left <= 0) return null;
    const pcm = this.decoder.take(Math.min(maxBytes, left));
    if (pcm && this.remaining !== null) this.remaining -= pcm.length;
    if (pcm) {
      const t = this.opts.now();
      this.taken = true;
      this.lastTakenAt = t;
      if (isAudible(pcm)) this.lastAudibleAt = t;
      this.autoGain?.push(pcm);
    }
    return pcm;
  }

  lookahead(bytes: number): number {
    return Math.min(this.decoder.lookahead(bytes), this.left());
  }

  get complete(): boolean {
    return this.decoder.complete;
  }

  get ended(): boolean {
    return this.decoder.ended || this.left() <= 0;
  }

  get error(): Error | null {
    return this.abandoned ?? this.decoder.error;
  }

  /** Why the ingest cut the show (dead air, a timeout), said as it is rather than as a decoder failure. */
  private abandoned: Error | null = null;

  /** The show goes on air now: its dead-air clock starts here, not at the connection. */
  onAir(): void {
    this.lastTakenAt = this.lastAudibleAt = this.opts.now();
  }

  abandon(reason: string): void {
    this.abandoned ??= new Error(reason);
    this.pipe.destroy();
    this.decoder.abandon(reason);
  }

  destroy(): void {
    this.pipe.destroy();
    this.decoder.destroy();
  }
}
