/**
 * Loudness analysis results and the decisions made from them. Pure: the
 * numbers come from ffmpeg's ebur128 filter (EBU R128 / ITU-R BS.1770), read
 * by parseEbur128 from its log.
 */
import * as z from 'zod';

/**
 * What one analysis pass over a song finds. Also the shape of each line of
 * the analysis file kept beside the cache, checked on reading: its numbers
 * end up in ffmpeg's arguments.
 */
export const analysisSchema = z
  .object({
    /** Integrated loudness, LUFS. */
    integratedLufs: z.number().min(-70).max(10),
    /** True peak, dBTP. */
    truePeakDb: z.number().min(-200).max(30),
    /** Where audible audio begins and ends, seconds into the file (autocue); null end: the file's end. */
    startSeconds: z.number().min(0).max(86_400),
    endSeconds: z.number().min(0).max(86_400).nullable(),
  })
  .strict();
export type Analysis = z.output<typeof analysisSchema>;

/** Audible means frame peaks within this many dB of the song's own loudness: quieter lead-ins and tails are trimmed. */
export const CUE_RELATIVE_DB = 30;
/** Lead-ins and tails shorter than this are left alone: they are part of the song's timing. */
const MIN_TRIM_SECONDS = 0.2;
/**
 * Frame peaks are true peaks, measured through an oversampling filter: a
 * loud frame rings a few milliseconds into the next one, so an edge found
 * from frames can be up to a frame late. silencedetect's sample-exact edges
 * (at SILENCE_DB) refine it when one lies this close.
 */
const REFINE_SECONDS = 0.15;
export const SILENCE_DB = -50;

/**
 * Read ebur128's per-frame lines (`t: 1.09998 ... M: -41.8 ... FTPK: -35.4 -35.4 dBFS`)
 * and its summary (`I: -36.2 LUFS`, `Peak: -35.2 dBFS`). Null when the summary is missing
 * (the pass did not finish) or the song is silent throughout.
 */
export function parseEbur128(log: string): Analysis | null {
  const integrated = /^\s*I:\s*(-?[\d.]+|-inf) LUFS\s*$/m.exec(log.slice(log.lastIndexOf('Summary:')));
  const peak = /^\s*Peak:\s*(-?[\d.]+|-inf) dBFS\s*$/m.exec(log.slice(log.lastIndexOf('Summary:')));
  if (!integrated || !peak || log.lastIndexOf('Summary:') < 0) return null;
  const integratedLufs = Number(integrated[1]);
  const truePeakDb = peak[1] === '-inf' ? -Infinity : Number(peak[1]);
  if (!Number.isFinite(integratedLufs) || integratedLufs < -70) return null;
  const frames: { t: number; peak: number }[] = [];
  for (const m of log.matchAll(/t:\s*([\d.]+)\s.*?FTPK:\s*(-?[\d.]+|-inf)\s+(-?[\d.]+|-inf)\s*dBFS/g)) {
    const p = Math.max(m[2] === '-inf' ? -Infinity : Number(m[2]), m[3] === '-inf' ? -Infinity : Number(m[3]));
    frames.push({ t: Number(m[1]), peak: p });
  }
  const last = frames.at(-1)?.t ?? 0;
  const floor = integratedLufs - CUE_RELATIVE_DB;
  const first = frames.find((f) => f.peak >= floor);
  const lastAudible = [...frames].reverse().find((f) => f.peak >= floor);
  // A frame's line comes at its end; frames are 100 ms.
  const silences = silenceEdges(log);
  let startSeconds = first ? Math.max(0, first.t - 0.1) : 0;
  const exactStart = silences.ends.find((e) => Math.abs(e - startSeconds) <= REFINE_SECONDS);
  if (exactStart !== undefined) startSeconds = exactStart;
  let end = lastAudible?.t ?? last;
  const exactEnd = silences.starts.find((e) => Math.abs(e - end) <= REFINE_SECONDS);
  if (exactEnd !== undefined) end = exactEnd;
  // The last frame line may be up to 100 ms before the file's end: "not trimmed" is the end itself.
  const endSeconds = lastAudible && last - end >= MIN_TRIM_SECONDS ? round3(end) : null;
  if (startSeconds < MIN_TRIM_SECONDS) startSeconds = 0;
  return { integratedLufs, truePeakDb, startSeconds: round3(startSeconds), endSeconds };
}

/** silencedetect's `silence_start: X` and `silence_end: Y` lines, in seconds. */
function silenceEdges(log: string): { starts: number[]; ends: number[] } {
  const starts = [...log.matchAll(/silence_start:\s*(-?[\d.]+)/g)].map((m) => Number(m[1]));
  const ends = [...log.matchAll(/silence_end:\s*(-?[\d.]+)/g)].map((m) => Number(m[1]));
  return { starts, ends };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** How a channel levels its songs (the playlist's `loudness`). */
export interface LoudnessTarget {
  /** Integrated loudness every song is brought to, LUFS. */
  targetLufs: number;
  /** No sample is let past this, dBFS (the limiter's ceiling). */
  ceilingDb: number;
}

/**
 * The gain (dB) that brings a song to the target: the whole difference,
 * plus the track's own `gain`. Peaks that would then pass the ceiling are
 * the limiter's job, not a reason to leave the song quiet.
 */
export function gainFor(a: Pick<Analysis, 'integratedLufs'> | null, target: LoudnessTarget, trackGainDb = 0): number {
  // Not analysed yet (a first play that could not wait): a typical modern master is about -14 LUFS.
  const measured = a?.integratedLufs ?? -14;
  return target.targetLufs - measured + trackGainDb;
}

export function dbToLinear(db: number): number {
  return 10 ** (db / 20);
}
