/**
 * Mixing songs on the channel's PCM: each song's s16le stereo samples are
 * scaled by its gain and fade envelope and summed into one float buffer
 * (interleaved L/R, in s16 units, so sums may exceed full scale until the
 * limiter brings them back). Pure: buffers in, buffers out.
 */
import { BYTES_PER_PCM_FRAME } from './pcm.js';

/**
 * Equal-power fade gain at `t` (0..1 through the fade). In and out curves
 * cross at -3 dB and their powers sum to 1 at every point, so two unrelated
 * songs overlapping keep the loudness steady instead of dipping in the middle
 * (a linear crossfade dips ~3 dB).
 */
export function fadeGain(direction: 'in' | 'out', t: number): number {
  const c = t <= 0 ? 0 : t >= 1 ? 1 : t;
  return direction === 'in' ? Math.sin((c * Math.PI) / 2) : Math.cos((c * Math.PI) / 2);
}

/** A song's envelope, in its own sample frames from its first. */
export interface Envelope {
  /** Frames the song fades in over from frame 0 (0: starts at full level). */
  fadeInFrames: number;
  /** Frame where its fade-out begins (null: none yet) and how long it lasts; silent after. */
  fadeOutStart: number | null;
  fadeOutFrames: number;
}

/** The envelope's gain at one frame of the song. */
export function envelopeAt(env: Envelope, frame: number): number {
  let g = 1;
  if (frame < env.fadeInFrames) g *= fadeGain('in', (frame + 0.5) / env.fadeInFrames);
  if (env.fadeOutStart !== null && frame >= env.fadeOutStart) {
    g *= env.fadeOutFrames > 0 ? fadeGain('out', (frame - env.fadeOutStart + 0.5) / env.fadeOutFrames) : 0;
  }
  return g;
}

/**
 * Add `pcm` (whole s16le stereo frames: frames `from`.. of a song) into
 * `out` from frame `at`, times `gain` and the song's envelope.
 */
export function addInto(out: Float32Array, at: number, pcm: Buffer, gain: number, env: Envelope, from: number): void {
  const frames = pcm.length / BYTES_PER_PCM_FRAME;
  // Aligned view: decoder chunks may start at any byte.
  const s = pcm.byteOffset % 2 === 0 ? new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length >> 1) : new Int16Array(Uint8Array.from(pcm).buffer);
  const fadeOutAt = env.fadeOutStart ?? Infinity;
  // Plain stretch (the whole song but its ends): one multiply per sample.
  const plainFrom = Math.max(0, Math.min(frames, env.fadeInFrames - from));
  const plainTo = Math.max(plainFrom, Math.min(frames, fadeOutAt - from));
  addFaded(out, at, s, 0, plainFrom, gain, env, from);
  for (let i = plainFrom, o = (at + plainFrom) * 2; i < plainTo; i++, o += 2) {
    out[o] = out[o]! + s[2 * i]! * gain;
    out[o + 1] = out[o + 1]! + s[2 * i + 1]! * gain;
  }
  addFaded(out, at, s, plainTo, frames, gain, env, from);
}

/** What fadeGain('out', t) gives past the end of a fade: cos(π/2), not quite 0. */
const OUT_END = Math.cos(Math.PI / 2);

/**
 * Frames lo..hi-1 of `s` (song frames from + lo..) into `out` times `gain`
 * and the envelope, as envelopeAt gives it. The curves' sines and cosines
 * are stepped from one frame to the next by a rotation (four multiplies)
 * instead of a Math.sin or Math.cos a frame: a crossfade is two fading
 * songs, 22,050 of those calls a 250 ms tick. Over a 10 s fade the steps
 * stray from the exact curve by ~1e-11.
 */
function addFaded(out: Float32Array, at: number, s: Int16Array, lo: number, hi: number, gain: number, env: Envelope, from: number): void {
  if (lo >= hi) return;
  const f0 = from + lo;
  // Fade-in: sin θ with θ = (f + 0.5) · dIn, while f < fadeInFrames.
  const nIn = env.fadeInFrames;
  const dIn = nIn > 0 ? Math.PI / 2 / nIn : 0;
  const cdIn = Math.cos(dIn);
  const sdIn = Math.sin(dIn);
  let sinIn = Math.sin((f0 + 0.5) * dIn);
  let cosIn = Math.cos((f0 + 0.5) * dIn);
  // Fade-out: cos φ with φ = (f - start + 0.5) · dOut, from its start on (silent at once when it lasts no frames).
  const start = env.fadeOutStart ?? Infinity;
  const nOut = env.fadeOutFrames;
  const fading = start !== Infinity && nOut > 0;
  const dOut = fading ? Math.PI / 2 / nOut : 0;
  const cdOut = Math.cos(dOut);
  const sdOut = Math.sin(dOut);
  let sinOut = fading ? Math.sin((f0 - start + 0.5) * dOut) : 0;
  let cosOut = fading ? Math.cos((f0 - start + 0.5) * dOut) : 1;
  for (let i = lo, f = f0, o = (at + lo) * 2; i < hi; i++, f++, o += 2) {
    let g = gain;
    if (f < nIn) g *= sinIn;
    if (f >= start) g *= !fading ? 0 : f - start + 0.5 >= nOut ? OUT_END : cosOut;
    out[o] = out[o]! + s[2 * i]! * g;
    out[o + 1] = out[o + 1]! + s[2 * i + 1]! * g;
    const si = sinIn * cdIn + cosIn * sdIn;
    cosIn = cosIn * cdIn - sinIn * sdIn;
    sinIn = si;
    const so = sinOut * cdOut + cosOut * sdOut;
    cosOut = cosOut * cdOut - sinOut * sdOut;
    sinOut = so;
  }
}
