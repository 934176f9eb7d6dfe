/**
 * A look-ahead peak limiter from the channel's mix (float, s16 units, songs'
 * gains already applied) to its s16le stereo PCM, streaming. Pure: samples
 * in, bytes out, state carried between calls.
 *
 * A song brought up to the target loudness, or two songs overlapping in a
 * crossfade, may have peaks the ceiling does
 * not allow (a quiet master with loud transients): the limiter lowers the
 * gain around them, starting a few milliseconds ahead (the look-ahead is a
 * fixed delay of the whole stream) and letting go over a release time, so
 * nothing clips and the rest of the song keeps its level. A last hard clip
 * at the ceiling catches what the smoothed attack could not.
 */
import { SAMPLE_RATE } from './pcm.js';

export interface LimiterOptions {
  /** Highest sample level let through, linear (1 = full scale). */
  ceiling: number;
  /** Look-ahead, in sample frames (also the stream's delay). Default 2 ms. */
  lookaheadFrames?: number;
  /** Release time constant, seconds. Default 0.08: short enough that a lone transient costs the song no loudness, long enough not to distort. */
  releaseSeconds?: number;
}

export class GainLimiter {
  private env = 1;
  private ceiling: number;
  private readonly look: number;
  private readonly attackCoef: number;
  private readonly releaseCoef: number;
  /** Delay line of gained samples (L, R interleaved), a ring of `look + 1` frames. */
  private readonly delay: Float64Array;
  /** Sliding minimum of the needed gain over the look-ahead: indices and values, a monotonic deque. */
  private readonly need: Float64Array;
  private readonly needAt: Float64Array;
  private head = 0;
  private tail = 0;
  private frame = 0;
  /** Frames whose gain the limiter reduced, since start (for tests and metrics). */
  limitedFrames = 0;

  constructor(opts: LimiterOptions) {
    this.ceiling = opts.ceiling;
    this.look = opts.lookaheadFrames ?? Math.round(SAMPLE_RATE * 0.002);
    this.attackCoef = 1 - Math.exp(-4 / this.look);
    this.releaseCoef = 1 - Math.exp(-1 / ((opts.releaseSeconds ?? 0.08) * SAMPLE_RATE));
    this.delay = new Float64Array((this.look + 1) * 2);
    this.need = new Float64Array(this.look + 2);
    this.needAt = new Float64Array(this.look + 2);
  }

  /** A new ceiling, linear, for the samples given from now on (the playlist changed). */
  setCeiling(linear: number): void {
    this.ceiling = linear;
  }

  /** Frames the output lags the input by. */
  get latencyFrames(): number {
    return this.look + 1;
  }

  /** Process whole frames of interleaved L/R samples; returns as many as s16le, delayed by `latencyFrames`. */
  process(input: Float32Array): Buffer {
    const output = new Int16Array(input.length);
    const frames = input.length >> 1;
    const size = this.need.length;
    const ring = this.look + 1;
    const { need, needAt, delay, ceiling, attackCoef, releaseCoef } = this;
    const limit = Math.floor(ceiling * 32767);
    const threshold = ceiling * 32768;
    let { head, tail, frame, env, limitedFrames } = this;
    for (let i = 0; i < frames; i++) {
      const l = input[2 * i]!;
      const r = input[2 * i + 1]!;
      const al = l < 0 ? -l : l;
      const ar = r < 0 ? -r : r;
      const peak = al > ar ? al : ar;
      const needed = peak > threshold ? threshold / peak : 1;
      // Monotonic deque: the smallest gain needed over the frames still ahead of the output.
      while (tail !== head && need[(tail - 1 + size) % size]! >= needed) tail = (tail - 1 + size) % size;
      need[tail] = needed;
      needAt[tail] = frame;
      tail = (tail + 1) % size;
      // The window: from the frame leaving now (entered `ring` frames ago) to the one just in.
      while (needAt[head]! < frame - ring) head = (head + 1) % size;
      const target = need[head]!;
      env += (target - env) * (target < env ? attackCoef : releaseCoef);
      const slot = (frame % ring) * 2;
      let outL = delay[slot]! * env;
      let outR = delay[slot + 1]! * env;
      delay[slot] = l;
      delay[slot + 1] = r;
      if (env < 0.9999) limitedFrames++;
      outL = outL > limit ? limit : outL < -limit ? -limit : outL;
      outR = outR > limit ? limit : outR < -limit ? -limit : outR;
      output[2 * i] = Math.round(outL);
      output[2 * i + 1] = Math.round(outR);
      frame++;
    }
    Object.assign(this, { head, tail, frame, env, limitedFrames });
    return Buffer.from(output.buffer, output.byteOffset, output.byteLength);
  }
}
