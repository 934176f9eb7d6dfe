/**
 * The encode-once design, as far as the study needs it (scripts/study-encode-once.ts):
 * a song prepared once (decoded, brought to its gain, limited, encoded whole
 * by LAME) and, on air, its frames sent as they are, with only the crossfade
 * between two songs mixed and encoded, joined to both on frame boundaries
 * (see mp3-splice.ts for the bit reservoir).
 *
 * Alignment: LAME's frame k of a fresh encode covers the same input samples
 * in every encode whose input starts on a multiple of 1152, so the crossfade
 * is encoded from `preroll` frames before its start (the same samples song A's
 * own encode saw) and song B is placed on a frame boundary of it.
 */
import { spawnSync } from 'node:child_process';
import { GainLimiter } from '../../src/audio/limiter.js';
import { fadeGain } from '../../src/audio/mix.js';
import { MP3_FRAME_SAMPLES as F } from '../../src/audio/mp3.js';
import { lameLibrary } from '../../src/encode/lame-lib.js';
import { decoderChoice, resolveFfmpegPath } from '../../src/ffmpeg/binaries.js';
import { LAME_LIBRARY } from '../../src/encode/encoder-choice.js';
import { fits, indexFrames, patchedTail, type FrameRef } from '../../src/audio/mp3-splice.js';

export interface Prepared {
  mp3: Buffer;
  frames: FrameRef[];
  /** The song's gained, limited PCM (s16 stereo) from sample `pcmStart`: whole for the seam check, its two ends on air (`ends`). */
  pcm: Int16Array;
  pcmStart: number;
  /** Its first samples, when `pcm` holds only the end. */
  head: Int16Array;
  samples: number;
}

/** One sample of a prepared song's PCM (0 outside what is kept). */
function sampleAt(p: Prepared, i: number, c: number): number {
  if (i < p.head.length / 2) return p.head[i * 2 + c]!;
  const j = i - p.pcmStart;
  return j >= 0 && j < p.pcm.length / 2 ? p.pcm[j * 2 + c]! : 0;
}

/** What a song needs kept on air: its first and last `seconds` + 3 s of PCM, not the 37 MB of a 3.5-minute song. */
export function ends(p: Prepared, seconds: number): Prepared {
  const keep = Math.round((seconds + 3) * 44100);
  const from = Math.max(0, p.samples - keep);
  return { ...p, head: p.pcm.slice(0, keep * 2), pcm: p.pcm.slice(from * 2), pcmStart: from };
}

/** A run of frames of one encode, some replaced by patched copies. */
export interface Piece {
  mp3: Buffer;
  frames: FrameRef[];
  from: number;
  to: number;
  patches: Map<number, Buffer>;
}

export interface Join {
  /** Song A plays frames [.., aTo); the crossfade's frames [xFrom, xTo) follow; song B resumes at bFrom. */
  aTo: number;
  aPatches: Map<number, Buffer>;
  x: Piece;
  bFrom: number;
  /** The PCM the crossfade piece was encoded from (its frame k stands for samples k * 1152..), for the study's reference. */
  xPcm: Int16Array;
}

/** The ffmpeg the station decodes an operator's AAC file with (the npm-shipped build when installed). */
const decoderFor = decoderChoice(undefined, resolveFfmpegPath());

/** LAME as the station sets it (CBR, joint stereo, quality 3, no tag), one whole buffer in, every frame out. */
export function encodeWhole(pcm: Int16Array, kbps = 128): Buffer {
  const lame = lameLibrary(LAME_LIBRARY);
  const gfp = lame.init();
  for (const [name, value] of [
    ['lame_set_num_channels', 2],
    ['lame_set_in_samplerate', 44100],
    ['lame_set_out_samplerate', 44100],
    ['lame_set_brate', kbps],
    ['lame_set_mode', 1],
    ['lame_set_VBR', 0],
    ['lame_set_bWriteVbrTag', 0],
  ] as const)
    lame.set(name, gfp, value);
  lame.initParams(gfp);
  const out: Buffer[] = [];
  const chunk = 44100;
  const scratch = Buffer.allocUnsafe(Math.ceil(1.25 * chunk) + 7200);
  for (let at = 0; at < pcm.length / 2; at += chunk) {
    const n = Math.min(chunk, pcm.length / 2 - at);
    const got = lame.encode(gfp, pcm.subarray(at * 2, (at + n) * 2), n, scratch, scratch.length);
    if (got > 0) out.push(Buffer.from(scratch.subarray(0, got)));
  }
  const got = lame.flush(gfp, scratch, scratch.length);
  if (got > 0) out.push(Buffer.from(scratch.subarray(0, got)));
  lame.close(gfp);
  return Buffer.concat(out);
}

/** Through the station's limiter, its look-ahead delay taken back out so sample i stays sample i. */
export function limited(mix: Float32Array, ceiling: number): Int16Array {
  const lim = new GainLimiter({ ceiling });
  const lag = lim.latencyFrames;
  const padded = new Float32Array(mix.length + lag * 2);
  padded.set(mix);
  const out: Buffer[] = [];
  const block = 4410 * 2;
  for (let at = 0; at < padded.length; at += block) out.push(lim.process(padded.subarray(at, Math.min(padded.length, at + block))));
  const all = Buffer.concat(out);
  return new Int16Array(all.buffer, all.byteOffset + lag * 4, mix.length);
}

function rounded(mix: Float32Array): Int16Array {
  const out = new Int16Array(mix.length);
  for (let i = 0; i < mix.length; i++) out[i] = Math.round(mix[i]!);
  return out;
}

/** Decode (the npm-shipped ffmpeg, as the station decodes its operator's files), gain, limit, encode: what a song costs once. */
export function prepare(file: string, gain: number, ceiling: number): Prepared {
  const r = spawnSync(decoderFor('aac', true), ['-v', 'error', '-i', file, '-f', 's16le', '-ac', '2', '-ar', '44100', '-'], { maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`decoding ${file}: ${r.stderr.toString()}`);
  const s = new Int16Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.length >> 1);
  const mix = new Float32Array(s.length);
  let peak = 0;
  for (let i = 0; i < s.length; i++) {
    const v = s[i]! * gain;
    mix[i] = v;
    if (v > peak) peak = v;
    else if (-v > peak) peak = -v;
  }
  // A song whose gained peaks stay under the ceiling needs no limiter (the station's has the same fast path, per block).
  const pcm = peak <= Math.floor(ceiling * 32767) ? rounded(mix) : limited(mix, ceiling);
  const mp3 = encodeWhole(pcm);
  return { mp3, frames: indexFrames(mp3), pcm, pcmStart: 0, head: new Int16Array(0), samples: pcm.length / 2 };
}

/**
 * The crossfade from A to B: B starts on the frame boundary nearest
 * `crossfade` seconds before A's end; the piece is encoded from `preroll`
 * frames before it to `postroll` after B's fade-in, and the joins are the
 * latest frame before the fade and the first after it where the bit
 * reservoir allows (null when none does: the study counts those).
 */
export function join(a: Prepared, b: Prepared, crossfade: number, ceiling: number, preroll = 8, postroll = 80): Join | null {
  const fade = Math.round(crossfade * 44100);
  const s = Math.round((a.samples - fade) / F);
  const x0 = (s - preroll) * F;
  const fadeFrames = Math.ceil(fade / F);
  const length = (preroll + fadeFrames + postroll) * F;
  const mix = new Float32Array(length * 2);
  for (let i = 0; i < length; i++) {
    const aAt = x0 + i;
    const intoB = i - preroll * F;
    const ga = intoB < 0 ? 1 : fadeGain('out', (intoB + 0.5) / fade);
    const gb = intoB < 0 ? 0 : intoB < fade ? fadeGain('in', (intoB + 0.5) / fade) : 1;
    for (let c = 0; c < 2; c++) {
      const av = sampleAt(a, aAt, c);
      const bv = intoB >= 0 ? sampleAt(b, intoB, c) : 0;
      mix[i * 2 + c] = av * ga + bv * gb;
    }
  }
  const xPcm = limited(mix, ceiling);
  const mp3 = encodeWhole(xPcm);
  const frames = indexFrames(mp3);
  let aTo = -1;
  for (let i = s - 1; i >= s - preroll + 3 && aTo < 0; i--) if (fits(a.frames, i, frames, i - (s - preroll))) aTo = i;
  let bFrom = -1;
  for (let r = fadeFrames + 1; r <= fadeFrames + postroll - 4 && bFrom < 0; r++) if (fits(frames, preroll + r, b.frames, r)) bFrom = r;
  if (aTo < 0 || bFrom < 0) return null;
  const xFrom = aTo - (s - preroll);
  const xTo = preroll + bFrom;
  const aPatches = new Map(patchedTail(a.mp3, a.frames, aTo, mp3, frames, xFrom).map((buf, k, all) => [aTo - all.length + k, buf]));
  const xPatches = new Map(patchedTail(mp3, frames, xTo, b.mp3, b.frames, bFrom).map((buf, k, all) => [xTo - all.length + k, buf]));
  return { aTo, aPatches, x: { mp3, frames, from: xFrom, to: xTo, patches: xPatches }, bFrom, xPcm };
}

/** The bytes of a piece's frames [from, to), patched ones swapped in. */
export function pieceBytes(p: Piece, from = p.from, to = p.to): Buffer[] {
  const out: Buffer[] = [];
  let runStart = from;
  for (let f = from; f <= to; f++) {
    const patch = f < to ? p.patches.get(f) : undefined;
    if (f === to || patch) {
      if (f > runStart) out.push(p.mp3.subarray(p.frames[runStart]!.offset, p.frames[f - 1]!.offset + p.frames[f - 1]!.length));
      if (patch) out.push(patch);
      runStart = f + 1;
    }
  }
  return out;
}
