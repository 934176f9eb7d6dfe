import { MAX_TAKE_FRAMES, type FrameStore, type TakeRecorder } from './frame-store.js';

/** A take shorter than this (~2.6 s) is not worth a file; station IDs of a few seconds are. */
const MIN_TAKE_FRAMES = 100;

/** A take being recorded from frame f0 of the stream, until `end` (the next song's start + 2). */
interface Recording {
  f0: number;
  end: number;
  rec: TakeRecorder;
  /** The song's stored take had this many frames (0: none). */
  had: number;
  /** That take as this play uses it (frames of it sent), if there was one. */
  take: { used: number } | null;
}

/**
 * The takes a stream is recording (encode/splicing-encoding.ts): each song
 * from its first frame to two past the next song's start, the PCM block
 * checksums as they are written and the frames as they are sent. A take is
 * kept when it adds what the stored one lacks.
 */
export class TakeRecordings {
  private readonly recordings: Recording[] = [];

  constructor(
    private readonly store: FrameStore,
    private readonly variant: string,
  ) {}

  /** A song starts at stream frame `at`: the takes being recorded end two frames after. */
  songAt(at: number): void {
    for (const r of this.recordings) r.end = Math.min(r.end, at + 2);
  }

  /** Record `key`'s take from frame f0; `had` frames were stored, used by this play as `take`. */
  start(key: string, f0: number, had: number, take: { used: number } | null): void {
    this.recordings.push({ f0, end: f0 + MAX_TAKE_FRAMES, rec: this.store.record(key, this.variant), had, take });
  }

  /** The checksum of PCM block b. */
  addSum(b: number, sum: number): void {
    for (const r of this.recordings) if (b >= r.f0 && b < r.end) r.rec.addSum(sum);
  }

  /** Frame n as sent; takes that are complete with it are finished. */
  addFrame(n: number, data: Buffer): void {
    for (const r of this.recordings) if (n >= r.f0 && n < r.end) r.rec.addFrame(data);
    for (let i = this.recordings.length - 1; i >= 0; i--) {
      const r = this.recordings[i]!;
      if (n + 1 < r.end) continue;
      this.recordings.splice(i, 1);
      finish(r);
    }
  }

  /** The stream ends: keep what was recorded so far, where worth it. */
  finishAll(): void {
    for (const r of this.recordings.splice(0)) finish(r);
  }

  /** The stream failed: nothing it recorded is kept. */
  discardAll(): void {
    for (const r of this.recordings.splice(0)) r.rec.discard();
  }
}

/** Keep a take when it adds what the stored one lacks: none stored, a longer one, or the stored one never matched. */
function finish(r: Recording): void {
  const frames = r.rec.frameCount;
  const better = r.had === 0 || frames > r.had + MIN_TAKE_FRAMES || (r.take?.used === 0 && frames >= r.had);
  if (frames >= MIN_TAKE_FRAMES && frames < MAX_TAKE_FRAMES && better) r.rec.save();
  else r.rec.discard();
}
