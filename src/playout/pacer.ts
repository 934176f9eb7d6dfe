/**
 * The channel's clock: releases MP3 frames at real-time rate, as libshout
 * does, from each frame's duration (samples / sample rate). Time is counted
 * in samples against a monotonic clock, so uneven timer wake-ups never add
 * up to drift: a late tick simply releases more frames.
 *
 * When the encoder has nothing ready and the stream would fall behind real
 * time, a silent frame stands in: the wire is never dead.
 */
import type { PacedFrame } from '../audio/mp3.js';

/**
 * How often a channel ticks (feeds its encoder, releases frames). Each tick
 * is a wake-up and a pass through the graph, the encoders and the outputs,
 * so fewer are cheaper: one channel, 15 s tones, no Icecast, 2.21 % of a
 * core with 100 ms ticks against 1.88 % with 250 ms ones (docs/benchmarks.md).
 *
 * - `live`: while a DJ is coming or on air. What is queued plays before the
 *   takeover can, and a DJ's audio cannot be read ahead, so ticks stay short.
 * - `calm`: the rest of the time (songs only): as long as the lead allows.
 *
 * The lead (PACING_LEAD_MS) must cover two ticks, so a small lead gets
 * shorter ticks; calm ones are never shorter than live ones.
 */
export function ticksFor(leadMs: number): { live: number; calm: number } {
  const live = Math.min(100, Math.max(20, Math.floor(leadMs / 2)));
  return { live, calm: Math.min(250, Math.max(live, Math.floor(leadMs / 2))) };
}

export interface PacerOptions<M> {
  sampleRate: number;
  /** How far ahead of real time frames may be released, in ms. */
  leadMs: number;
  /** Milliseconds from a monotonic clock. */
  now: () => number;
  /**
   * Sent when no frame is ready; must be a frame of `sampleRate`. Absent
   * (an Ogg stream, where a page cannot be slipped in): nothing stands in,
   * and time lost waiting is skipped rather than caught up in a burst.
   */
  silentFrame?: Buffer | undefined;
  silentFrameSamples?: number | undefined;
  /** Receives each tick's frames, concatenated: whole frames only, and the stream position (in samples) of the first. */
  emit: (data: Buffer, startSample: number) => void;
  onMarker: (marker: M) => void;
}

export class Pacer<M> {
  private readonly queue: PacedFrame<M>[] = [];
  private head = 0;
  private startedAt = 0;
  private started = false;
  /** Samples released, real frames and stand-ins alike. */
  sentSamples = 0;
  /** Samples of encoder frames released (not stand-ins). */
  sourceSamplesSent = 0;
  /** Samples of silence sent because nothing was ready. */
  standInSamples = 0;
  /** The last tick ran out of frames before the lead was covered. */
  private starved = false;

  constructor(private readonly opts: PacerOptions<M>) {}

  start(): void {
    this.startedAt = this.opts.now();
    this.started = true;
  }

  push(frame: PacedFrame<M>): void {
    this.queue.push(frame);
    // Short of the lead (at start, after an encoder restart): send at once
    // rather than at the next tick, so a new mount has audio without delay.
    if (this.starved) this.tick();
  }

  /** Seconds of audio sent minus seconds elapsed: the lead (positive) or lag. */
  get aheadSeconds(): number {
    return this.sentSamples / this.opts.sampleRate - this.elapsedSeconds;
  }

  get elapsedSeconds(): number {
    return this.started ? (this.opts.now() - this.startedAt) / 1000 : 0;
  }

  /** Drop frames not yet sent (the encoder they came from is gone). */
  clearQueue(): void {
    this.queue.length = 0;
    this.head = 0;
  }

  /** Release every frame that is due. Call often; how often does not matter for accuracy. */
  tick(): void {
    if (!this.started) return;
    const { sampleRate } = this.opts;
    const elapsedSamples = ((this.opts.now() - this.startedAt) / 1000) * sampleRate;
    const dueSamples = elapsedSamples + (this.opts.leadMs / 1000) * sampleRate;
    const batch: Buffer[] = [];
    let batchStart = this.sentSamples;
    const flush = (): void => {
      if (batch.length > 0) this.opts.emit(batch.length === 1 ? batch[0]! : Buffer.concat(batch), batchStart);
      batch.length = 0;
      batchStart = this.sentSamples;
    };
    while (this.sentSamples < dueSamples) {
      const frame = this.queue[this.head];
      if (frame !== undefined) {
        this.head += 1;
        if (frame.marker !== undefined) {
          flush();
          this.opts.onMarker(frame.marker);
        }
        batch.push(frame.data);
        this.sentSamples += frame.samples;
        this.sourceSamplesSent += frame.samples;
      } else if (this.sentSamples < elapsedSamples && this.opts.silentFrame) {
        batch.push(this.opts.silentFrame);
        this.sentSamples += this.opts.silentFrameSamples!;
        this.standInSamples += this.opts.silentFrameSamples!;
      } else {
        if (this.sentSamples < elapsedSamples) {
          this.standInSamples += elapsedSamples - this.sentSamples;
          this.sentSamples = elapsedSamples;
        }
        break;
      }
    }
    this.starved = this.sentSamples < dueSamples;
    flush();
    // Compact now and then instead of shifting on every frame; soon, as sent
    // frames hold their chunks' memory (1024 of them were ~0.4 MB a channel).
    if (this.head > 64) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }
}
