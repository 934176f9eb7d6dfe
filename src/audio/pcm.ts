/**
 * The channel's internal audio format: what every decoder produces and the
 * one continuous encoder consumes. Fixed, so songs of any format meet at a
 * seam without a gap or a re-initialised encoder.
 */
export const SAMPLE_RATE = 44100;
export const CHANNELS = 2;
/** s16le: 2 bytes per sample. */
export const BYTES_PER_SAMPLE = 2;
/** One sample for every channel: the unit a PCM stream may be cut at. */
export const BYTES_PER_PCM_FRAME = CHANNELS * BYTES_PER_SAMPLE;
export const BYTES_PER_SECOND = SAMPLE_RATE * BYTES_PER_PCM_FRAME;

/** PCM bytes for a duration, rounded down to a whole sample frame. */
export function pcmBytesFor(seconds: number): number {
  return Math.floor(seconds * SAMPLE_RATE) * BYTES_PER_PCM_FRAME;
}

// Enough for any pad a channel writes in one tick, so silence allocates nothing.
const ZEROS = Buffer.alloc(pcmBytesFor(1));

/** Digital silence of `bytes` length (a multiple of BYTES_PER_PCM_FRAME). */
export function silencePcm(bytes: number): Buffer {
  if (bytes <= ZEROS.length) return ZEROS.subarray(0, bytes);
  return Buffer.alloc(bytes);
}

/** -60 dBFS in 16-bit samples: below it, a stretch of audio counts as silence. */
export const AUDIBLE_THRESHOLD = 33;

/** Whether any sample of s16le `pcm` reaches `threshold`; stops at the first (music: the first few samples). */
export function isAudible(pcm: Buffer, threshold = AUDIBLE_THRESHOLD): boolean {
  const n = pcm.length >> 1;
  for (let i = 0; i < n; i++) {
    const v = pcm.readInt16LE(i << 1);
    if (v >= threshold || v <= -threshold) return true;
  }
  return false;
}
