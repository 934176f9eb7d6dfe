/**
 * Loudness of a live stream as it plays (ITU-R BS.1770: K-weighting, mean
 * square summed over both channels, -0.691 dB), over a sliding window, and
 * a slow automatic gain that brings it to a target: what a live input gets
 * in place of the once-per-song analysis a file has. Pure: samples in,
 * figures out.
 */
import { SAMPLE_RATE } from './pcm.js';

interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

/** BS.1770's two K-weighting stages at `rate` (the pre-filter shelf, then the RLB high-pass), as libebur128 derives them for any rate. */
function kWeighting(rate: number): [Biquad, Biquad] {
  let f0 = 1681.974450955533;
  const G = 3.999843853973347;
  let Q = 0.7071752369554196;
  let K = Math.tan((Math.PI * f0) / rate);
  const Vh = 10 ** (G / 20);
  const Vb = Vh ** 0.4996667741545416;
  let a0 = 1 + K / Q + K * K;
  const shelf = {
    b0: (Vh + (Vb * K) / Q + K * K) / a0,
    b1: (2 * (K * K - Vh)) / a0,
    b2: (Vh - (Vb * K) / Q + K * K) / a0,
    a1: (2 * (K * K - 1)) / a0,
    a2: (1 - K / Q + K * K) / a0,
  };
  f0 = 38.13547087602444;
  Q = 0.5003270373238773;
  K = Math.tan((Math.PI * f0) / rate);
  a0 = 1 + K / Q + K * K;
  const highpass = { b0: 1, b1: -2, b2: 1, a1: (2 * (K * K - 1)) / a0, a2: (1 - K / Q + K * K) / a0 };
  return [shelf, highpass];
}

/** Blocks the window is kept in: 100 ms each. */
const BLOCK_FRAMES = SAMPLE_RATE / 10;

export class LoudnessMeter {
  private readonly stages = kWeighting(SAMPLE_RATE);
  /** Filter state per channel and stage: x1, x2, y1, y2. */
  private readonly state = new Float64Array(2 * 2 * 4);
  private blockSum = 0;
  private blockFrames = 0;
  private readonly blocks: number[] = [];

  /** @param windowBlocks the window, in 100 ms blocks (30: BS.1770's short-term 3 s). */
  constructor(private readonly windowBlocks = 30) {}

  /** Feed s16le stereo PCM. */
  push(pcm: Buffer): void {
    const frames = pcm.length >> 2;
    const st = this.state;
    for (let i = 0; i < frames; i++) {
      let sum = 0;
      for (let c = 0; c < 2; c++) {
        let x = pcm.readInt16LE(i * 4 + c * 2) / 32768;
        for (let s = 0; s < 2; s++) {
          const f = this.stages[s]!;
          const o = (c * 2 + s) * 4;
          const y = f.b0 * x + f.b1 * st[o]! + f.b2 * st[o + 1]! - f.a1 * st[o + 2]! - f.a2 * st[o + 3]!;
          st[o + 1] = st[o]!;
          st[o] = x;
          st[o + 3] = st[o + 2]!;
          st[o + 2] = y;
          x = y;
        }
        sum += x * x;
      }
      this.blockSum += sum;
      if (++this.blockFrames === BLOCK_FRAMES) {
        this.blocks.push(this.blockSum / BLOCK_FRAMES);
        if (this.blocks.length > this.windowBlocks) this.blocks.shift();
        this.blockSum = 0;
        this.blockFrames = 0;
      }
    }
  }

  /** Blocks measured so far (at most the window). */
  get filled(): number {
    return this.blocks.length;
  }

  /** LUFS over the window (or what of it is measured); -Infinity for digital silence, null before the first block. */
  get lufs(): number | null {
    return this.gated(-Infinity);
  }

  /**
   * LUFS over the window's blocks that are themselves at least `gate` LUFS
   * (BS.1770's gating): a pause in speech does not read as the show getting
   * quieter. Null when no block passes.
   */
  gated(gate: number): number | null {
    const floor = 10 ** ((gate + 0.691) / 10);
    let sum = 0;
    let n = 0;
    for (const b of this.blocks) {
      if (b >= floor) {
        sum += b;
        n++;
      }
    }
    if (n === 0) return null;
    return sum > 0 ? -0.691 + 10 * Math.log10(sum / n) : -Infinity;
  }
}

export interface AutoGainOptions {
  /** LUFS to bring the input to. */
  target: number;
  /** Most it raises or lowers, dB. Default 18 (a -34 LUFS microphone to -16). */
  rangeDb?: number;
  /** Below this the input is silence or near it, not quiet music: the gain holds. Default -50 LUFS. */
  gateLufs?: number;
}

/**
 * A gain that follows the meter slowly: fast for the first seconds (a DJ
 * far off the target is brought near it within ~3 s), then at most 1 dB/s
 * up and 3 dB/s down, so it rides a show's level without pumping; peaks
 * are the channel limiter's job. Steps once per 100 ms block.
 */
export class AutoGain {
  private readonly meter = new LoudnessMeter(30);
  private gain = 0;
  private pending = 0;

  constructor(private readonly opts: AutoGainOptions) {}

  /** dB to apply now. */
  get db(): number {
    return this.gain;
  }

  get lufs(): number | null {
    return this.meter.lufs;
  }

  push(pcm: Buffer): void {
    // Block by block, so the gain steps with the meter as it was at each block's end, however the PCM is cut.
    for (let at = 0; at < pcm.length;) {
      const take = Math.min(pcm.length - at, (BLOCK_FRAMES - this.pending) * 4);
      this.meter.push(pcm.subarray(at, at + take));
      at += take;
      this.pending += take >> 2;
      if (this.pending === BLOCK_FRAMES) {
        this.pending = 0;
        this.step();
      }
    }
  }

  private step(): void {
    // Only the blocks with sound in them: through a pause the gain holds.
    const l = this.meter.gated(this.opts.gateLufs ?? -50);
    if (l === null) return;
    const range = this.opts.rangeDb ?? 18;
    const want = Math.max(-range, Math.min(range, this.opts.target - l));
    const early = this.meter.filled < 30;
    const up = early ? 0.8 : 0.1;
    const down = early ? 0.8 : 0.3;
    const delta = want - this.gain;
    this.gain += Math.max(-down, Math.min(up, delta));
  }
}
