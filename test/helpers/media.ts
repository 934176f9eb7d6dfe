import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ToneSpec {
  file: string;
  freq: number;
  seconds: number;
  sampleRate?: number;
  channels?: number;
  /** ffmpeg output arguments (codec etc.) */
  args: string[];
  title?: string;
  artist?: string;
  /** Attach this image as ID3 cover art (MP3 only). */
  cover?: string;
}

/**
 * A steady sine tone, encoded as asked. Steady tones contain no silence, so
 * any silence a listener hears is the station's doing.
 */
export async function makeTone(spec: ToneSpec): Promise<string> {
  const sr = spec.sampleRate ?? 44100;
  const args = ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `sine=frequency=${spec.freq}:sample_rate=${sr}:duration=${spec.seconds}`];
  if (spec.cover) args.push('-i', spec.cover, '-map', '0:a', '-map', '1:v', '-c:v', 'copy', '-id3v2_version', '3', '-disposition:v', 'attached_pic');
  args.push('-af', 'volume=0.5', '-ac', String(spec.channels ?? 2), '-ar', String(sr));
  if (spec.title) args.push('-metadata', `title=${spec.title}`);
  if (spec.artist) args.push('-metadata', `artist=${spec.artist}`);
  args.push(...spec.args, spec.file);
  await run('ffmpeg', args);
  return spec.file;
}

/**
 * A picture of w x h from an ffmpeg test source (a flat colour by default),
 * `then` filters applied, in the format its name says.
 */
export async function makeImage(file: string, w: number, h: number, source = 'color=c=teal', then?: string): Promise<string> {
  const input = `${source}${source.includes('=') ? ':' : '='}s=${w}x${h}${then ? `,${then}` : ''}`;
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', input, '-frames:v', '1', file]);
  return file;
}

/** A noisy square PNG (it barely compresses), to make a large ID3 picture frame. */
export function makeCover(file: string, size = 400): Promise<string> {
  return makeImage(file, size, size, 'nullsrc', 'geq=random(1)*255:128:128');
}

/** Decode MP3 bytes to mono s16le PCM at 44.1 kHz. */
export function decodeMp3(mp3: Buffer): Promise<Int16Array> {
  return decodeAudio(mp3, 'mp3');
}

/** Decode a recording in `format` (an ffmpeg demuxer: mp3, aac, ogg) to mono s16le PCM at 44.1 kHz. */
export async function decodeAudio(bytes: Buffer, format: string): Promise<Int16Array> {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const p = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', format, '-i', 'pipe:0', '-ac', '1', '-ar', '44100', '-f', 's16le', 'pipe:1']);
    const out: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.on('error', reject);
    p.on('close', (code) => {
      const b = Buffer.concat(out);
      if (code !== 0 && b.length === 0) return reject(new Error(`ffmpeg decode failed (${code})`));
      resolve(new Int16Array(b.buffer, b.byteOffset, Math.floor(b.length / 2)));
    });
    p.stdin.on('error', () => undefined);
    p.stdin.end(bytes);
  });
}

export interface SilentRun {
  startSec: number;
  ms: number;
}

/**
 * Runs of silence (every sample under -45 dBFS) of at least `minMs`, between
 * the first and last audible sample, as the peers' measurement does.
 */
export function silentRuns(pcm: Int16Array, sampleRate = 44100, minMs = 3): SilentRun[] {
  const threshold = Math.round(32768 * 10 ** (-45 / 20));
  let first = 0;
  while (first < pcm.length && Math.abs(pcm[first]!) < threshold) first++;
  let last = pcm.length - 1;
  while (last > first && Math.abs(pcm[last]!) < threshold) last--;
  const runs: SilentRun[] = [];
  let start = -1;
  for (let i = first; i <= last; i++) {
    const quiet = Math.abs(pcm[i]!) < threshold;
    if (quiet && start < 0) start = i;
    if (!quiet && start >= 0) {
      const ms = ((i - start) / sampleRate) * 1000;
      if (ms >= minMs) runs.push({ startSec: start / sampleRate, ms });
      start = -1;
    }
  }
  return runs;
}

/**
 * Estimated frequency (Hz) of each `windowMs` window, from zero crossings: good enough to tell steady tones apart.
 * Windows quieter than `minRms` (sample units) give 0: the codec noise MP3 leaves next to digital silence crosses
 * zero at any rate, and one such window can read as any tone.
 */
export function frequencyTrack(pcm: Int16Array, sampleRate = 44100, windowMs = 20, minRms = 0): number[] {
  const n = Math.floor((sampleRate * windowMs) / 1000);
  const out: number[] = [];
  for (let w = 0; w + n <= pcm.length; w += n) {
    let crossings = 0;
    let energy = 0;
    for (let i = w + 1; i < w + n; i++) {
      if (pcm[i - 1]! < 0 !== pcm[i]! < 0) crossings++;
      energy += pcm[i]! * pcm[i]!;
    }
    out.push(minRms > 0 && Math.sqrt(energy / (n - 1)) < minRms ? 0 : (crossings / 2) * (1000 / windowMs));
  }
  return out;
}

/** -50 dBFS in sample units: far under any song on air (normalized to -16 LUFS), over the codec's noise by silence. */
export const AUDIBLE_RMS = 104;

/**
 * Windows of a `frequencyTrack` where a steady tone near `hz` sounds: in runs of at least `minRun` windows
 * (60 ms at 20 ms windows), so one window straddling a seam (a tone's edge and codec noise) does not count,
 * while any stretch of a song played would.
 */
export function steadyToneWindows(track: number[], hz: number, tolerance = 300, minRun = 3): number {
  let total = 0;
  let run = 0;
  for (const f of [...track, 0]) {
    if (Math.abs(f - hz) < tolerance) run++;
    else {
      if (run >= minRun) total += run;
      run = 0;
    }
  }
  return total;
}

/**
 * Times (s) where the tone changes from one of `freqs` to another: the start
 * of the first window nearer to the new frequency, confirmed by the next 3.
 */
export function toneChanges(pcm: Int16Array, freqs: number[], sampleRate = 44100, windowMs = 20): { at: number; to: number }[] {
  const track = frequencyTrack(pcm, sampleRate, windowMs);
  const nearest = (f: number): number => freqs.reduce((a, b) => (Math.abs(b - f) < Math.abs(a - f) ? b : a));
  const labels = track.map((f) => (f < 50 ? 0 : nearest(f)));
  const changes: { at: number; to: number }[] = [];
  let current = 0;
  for (let i = 0; i + 3 < labels.length; i++) {
    const l = labels[i]!;
    if (l !== 0 && l !== current && labels[i + 1] === l && labels[i + 2] === l && labels[i + 3] === l) {
      if (current !== 0) changes.push({ at: (i * windowMs) / 1000, to: l });
      current = l;
    }
  }
  return changes;
}

/**
 * Tone changes without excursions: in a crossfade both tones sound, and the
 * strongest may flip to the old one and back for a few windows. A change
 * that the next one undoes within `seconds` is such a flip: the pair goes,
 * the briefest first (of 500 -> 600 at 37.99 s, back at 39.3, 600 again at
 * 39.5, the seam is at 37.99).
 */
export function withoutExcursions(changes: { at: number; to: number }[], seconds: number): { at: number; to: number }[] {
  const out = [...changes];
  for (;;) {
    let shortest = -1;
    for (let i = 1; i + 1 < out.length; i++) {
      const gap = out[i + 1]!.at - out[i]!.at;
      if (out[i + 1]!.to === out[i - 1]!.to && gap < seconds && (shortest < 0 || gap < out[shortest + 1]!.at - out[shortest]!.at)) shortest = i;
    }
    if (shortest < 0) return out;
    out.splice(shortest, 2);
  }
}

/** Integrated loudness and true peak of a file (or a stretch of it), as ffmpeg's ebur128 measures. */
export async function measureLoudness(file: string, from = 0, seconds?: number): Promise<{ lufs: number; peak: number }> {
  const args = [
    '-hide_banner',
    '-nostats',
    ...(from > 0 ? ['-ss', String(from)] : []),
    ...(seconds ? ['-t', String(seconds)] : []),
    '-i',
    file,
    '-af',
    'ebur128=peak=true',
    '-f',
    'null',
    '-',
  ];
  const { stderr } = await run('ffmpeg', args, { maxBuffer: 64 * 1024 * 1024 });
  const tail = stderr.slice(stderr.lastIndexOf('Summary:'));
  return { lufs: Number(/I:\s*(-?[\d.]+) LUFS/.exec(tail)![1]), peak: Number(/Peak:\s*(-?[\d.]+) dBFS/.exec(tail)![1]) };
}

/** A place where a stream of MP3 frames breaks: a frame not followed by another, and the bytes skipped before frames resume. */
export interface FrameBreak {
  at: number;
  junkBytes: number;
}

/**
 * Walks an MP3 stream frame by frame as a decoder syncs on it and lists
 * where the chain of whole frames breaks (a splice mid-frame), with how
 * many bytes a decoder must skip to find the next whole frames.
 */
export async function frameBreaks(mp3: Buffer): Promise<{ frames: number; breaks: FrameBreak[] }> {
  const { parseFrameHeader } = await import('../../src/audio/mp3.js');
  /** A frame here whose successor is a frame too (or the stream's end). */
  const chained = (at: number): number | null => {
    const h = parseFrameHeader(mp3, at);
    if (!h) return null;
    const next = at + h.frameLength;
    return next + 4 > mp3.length || parseFrameHeader(mp3, next) ? h.frameLength : null;
  };
  const breaks: FrameBreak[] = [];
  let frames = 0;
  let at = 0;
  while (at < mp3.length && chained(at) === null) at++;
  while (at + 4 <= mp3.length) {
    const len = chained(at);
    if (len !== null) {
      frames++;
      at += len;
      continue;
    }
    // `at` was reached from a whole frame but holds none: junk until frames chain again.
    const from = at;
    while (at + 4 <= mp3.length && chained(at) === null) at++;
    breaks.push({ at: from, junkBytes: at - from });
  }
  return { frames, breaks };
}
