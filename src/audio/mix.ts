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
  for (let i = 0; i < plainFrom; i++) addFrame(out, at + i, s, i, gain * envelopeAt(env, from + i));
  for (let i = plainFrom, o = (at + plainFrom) * 2; i < plainTo; i++, o += 2) {
    out[o] = out[o]! + s[2 * i]! * gain;
    out[o + 1] = out[o + 1]! + s[2 * i + 1]! * gain;
  }
  for (let i = plainTo; i < frames; i++) addFrame(out, at + i, s, i, gain * envelopeAt(env, from + i));
}

function addFrame(out: Float32Array, frame: number, s: Int16Array, i: number, g: number): void {
  const o = frame * 2;
  out[o] = out[o]! + s[2 * i]! * g;
  out[o + 1] = out[o + 1]! + s[2 * i + 1]! * g;
}
