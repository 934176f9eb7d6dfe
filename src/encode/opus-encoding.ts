import { randomInt } from 'node:crypto';
import type { PacedFrame } from '../audio/mp3.js';
import { OGG_BOS, OGG_EOS, oggPage, opusHead, opusTags } from '../audio/ogg.js';
import { CHANNELS, SAMPLE_RATE } from '../audio/pcm.js';
import type { TrackInfo } from '../acquire/track-info.js';
import { EncoderError } from '../kernel/errors.js';
import { OPUS_FRAME, OPUS_RATE, opusLibrary, type OpusCalls, type Resampler } from './opus-lib.js';

/** OPUS_APPLICATION_AUDIO: music, not speech. */
const APPLICATION_AUDIO = 2049;
const OPUS_SET_BITRATE = 4002;
const OPUS_SET_COMPLEXITY = 4010;
/** Largest packet libopus writes (RFC 6716: 1275 bytes a frame). */
const MAX_PACKET = 1500;
/** Station samples in one 20 ms Opus frame (882 at 44.1 kHz). */
const FRAME_STATION_SAMPLES = (OPUS_FRAME * SAMPLE_RATE) / OPUS_RATE;

export interface OpusEncodingOptions {
  bitrateKbps: number;
  /** libopus complexity 0-10 (CPU against quality at a bitrate). */
  complexity: number;
  onFrame: (frame: PacedFrame<TrackInfo>) => void;
  onFailed: (err: Error) => void;
}

/** One logical Ogg stream of the chain: its encoder and its place. */
interface Chain {
  encoder: unknown;
  serial: number;
  sequence: number;
  preSkip: number;
  /** Samples encoded into this chain (48 kHz, padding included). */
  fed: number;
  /** Packets waiting for their page. */
  packets: Buffer[];
}

/**
 * A channel's Opus rendition, encoded in this process: PCM in, Ogg pages
 * out, and a new chained Ogg stream (its own OpusHead and OpusTags, with the
 * song's TITLE and ARTIST) where each song starts: how Ogg carries titles,
 * and what Icecast, VLC, mpv, ffmpeg and browsers read. Each stream's last
 * page says where its audio ends (granule position), so the padding of its
 * last frame is trimmed by the player: the seam is gapless.
 *
 * The station's 44.1 kHz is resampled to Opus's 48 kHz by libsoxr,
 * continuously across streams. One page per write (a tick: ~100 ms).
 */
export class OpusOggEncoding {
  /** Station samples written. */
  fedSamples = 0;
  private readonly lib: OpusCalls;
  private readonly resampler: Resampler;
  private chain: Chain;
  /** 48 kHz samples resampled, not yet encoded (interleaved). */
  private pending: Int16Array = new Int16Array(0);
  /** 48 kHz samples the resampler has given, in all. */
  private resampled = 0;
  private readonly marks: { at: number; info: TrackInfo }[] = [];
  private status: 'running' | 'closed' | 'failed' = 'running';

  constructor(private readonly opts: OpusEncodingOptions) {
    this.lib = opusLibrary();
    this.resampler = this.lib.resampler(SAMPLE_RATE, OPUS_RATE, CHANNELS);
    this.chain = this.open(null);
  }

  get running(): boolean {
    return this.status === 'running';
  }

  /** The next PCM written starts this song, `delay` samples in: a new stream with its title begins there. */
  markSongStart(info: TrackInfo, delay = 0): void {
    const at = Math.round(((this.fedSamples + delay) * OPUS_RATE) / SAMPLE_RATE);
    this.marks.push({ at: Math.max(at, this.resampled - this.pending.length / CHANNELS), info });
  }

  write(pcm: Buffer): void {
    if (!this.running) return;
    const frames = pcm.length / (2 * CHANNELS);
    this.fedSamples += frames;
    try {
      const aligned = pcm.byteOffset % 2 === 0 ? pcm : Buffer.from(pcm);
      const out = this.resampler.process(new Int16Array(aligned.buffer, aligned.byteOffset, frames * CHANNELS), frames);
      this.resampled += out.length / CHANNELS;
      this.pending = concat(this.pending, out);
      this.drain();
    } catch (err) {
      this.fail(err);
    }
  }

  /** Encode what is whole; end the stream and open the next where a song starts. */
  private drain(): void {
    for (;;) {
      const start = this.resampled - this.pending.length / CHANNELS;
      const mark = this.marks[0];
      const cut = mark ? mark.at - start : Infinity;
      if (cut <= this.pending.length / CHANNELS) {
        this.marks.shift();
        const tail = Math.max(0, cut);
        const encoded = this.encodeWhole(tail);
        this.finish(this.take(tail - encoded));
        this.chain = this.open(mark!.info);
        continue;
      }
      this.encodeWhole(this.pendingFrames());
      this.flushPage(0);
      return;
    }
  }

  private pendingFrames(): number {
    return this.pending.length / CHANNELS;
  }

  /** Encode whole 20 ms frames from the first `limit` pending samples; the rest stays pending. Returns the samples taken. */
  private encodeWhole(limit: number): number {
    const whole = Math.floor(limit / OPUS_FRAME) * OPUS_FRAME;
    const pcm = this.take(whole);
    for (let at = 0; at < whole; at += OPUS_FRAME) this.encodeFrame(pcm.subarray(at * CHANNELS, (at + OPUS_FRAME) * CHANNELS));
    return whole;
  }

  private take(frames: number): Int16Array {
    const out = this.pending.subarray(0, frames * CHANNELS);
    this.pending = this.pending.subarray(frames * CHANNELS);
    return out;
  }

  private encodeFrame(pcm: Int16Array): void {
    const out = Buffer.allocUnsafe(MAX_PACKET);
    const n = this.lib.encode(this.chain.encoder, pcm, OPUS_FRAME, out, out.length);
    if (n < 0) throw new Error(`opus_encode returned ${n}`);
    this.chain.packets.push(Buffer.from(out.subarray(0, n)));
    this.chain.fed += OPUS_FRAME;
  }

  /**
   * End the stream: `tail` (under one frame) and zeros after it, until the
   * encoder's lookahead has given out every real sample; the last page's
   * granule position says where they end, so players drop the padding.
   */
  private finish(tail: Int16Array): void {
    const real = this.chain.fed + tail.length / CHANNELS;
    const frame = new Int16Array(OPUS_FRAME * CHANNELS);
    frame.set(tail);
    this.encodeFrame(frame);
    frame.fill(0);
    while (this.chain.fed < real + this.chain.preSkip) this.encodeFrame(frame);
    this.flushPage(OGG_EOS, BigInt(real + this.chain.preSkip));
    this.lib.destroy(this.chain.encoder);
    this.chain.encoder = null;
  }

  /** The packets so far as one page, paced by the 20 ms each holds. */
  private flushPage(flags: number, granule = BigInt(this.chain.fed)): void {
    const { packets } = this.chain;
    if (packets.length === 0 && !(flags & OGG_EOS)) return;
    const data = oggPage({ flags, granule, serial: this.chain.serial, sequence: this.chain.sequence++, packets });
    this.chain.packets = [];
    this.opts.onFrame({ data, samples: packets.length * FRAME_STATION_SAMPLES });
  }

  /** A new logical stream: a fresh encoder, its headers as one frame carrying the song to announce. */
  private open(info: TrackInfo | null): Chain {
    const error = [0];
    const encoder = this.lib.create(OPUS_RATE, CHANNELS, APPLICATION_AUDIO, error);
    if (!encoder || error[0] !== 0) throw new Error(`opus_encoder_create failed (${error[0]})`);
    this.lib.ctl(encoder, OPUS_SET_BITRATE, 'int', this.opts.bitrateKbps * 1000);
    this.lib.ctl(encoder, OPUS_SET_COMPLEXITY, 'int', this.opts.complexity);
    const chain: Chain = { encoder, serial: randomInt(1, 2 ** 31), sequence: 0, preSkip: this.lib.lookahead(encoder), fed: 0, packets: [] };
    const comments: [string, string][] = [];
    if (info) {
      comments.push(['TITLE', info.title]);
      if (info.artist) comments.push(['ARTIST', info.artist]);
      if (info.album) comments.push(['ALBUM', info.album]);
    }
    const head = oggPage({
      flags: OGG_BOS,
      granule: 0n,
      serial: chain.serial,
      sequence: chain.sequence++,
      packets: [opusHead(CHANNELS, chain.preSkip, SAMPLE_RATE)],
    });
    const tags = oggPage({
      flags: 0,
      granule: 0n,
      serial: chain.serial,
      sequence: chain.sequence++,
      packets: [opusTags(`sCast (${this.lib.version()})`, comments)],
    });
    this.opts.onFrame({ data: Buffer.concat([head, tags]), samples: 0, marker: info ?? undefined, headers: true });
    return chain;
  }

  private fail(err: unknown): void {
    if (!this.running) return;
    this.status = 'failed';
    this.release();
    this.opts.onFailed(new EncoderError('opus', err instanceof Error ? err.message : String(err)));
  }

  /** End the stream cleanly (its last page says so). */
  close(): Promise<void> {
    if (this.running) {
      try {
        const tail = this.resampler.flush();
        this.resampled += tail.length / CHANNELS;
        this.pending = concat(this.pending, tail);
        this.drain();
        this.encodeWhole(this.pendingFrames());
        this.finish(this.take(this.pendingFrames()));
      } catch {
        // Closing anyway.
      }
      this.status = 'closed';
      this.release();
    }
    return Promise.resolve();
  }

  destroy(): void {
    if (this.status === 'running') this.status = 'closed';
    this.release();
  }

  private release(): void {
    if (this.chain.encoder) this.lib.destroy(this.chain.encoder);
    this.chain.encoder = null;
    this.resampler.close();
  }
}

function concat(a: Int16Array, b: Int16Array): Int16Array {
  if (a.length === 0) return b;
  const out = new Int16Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
