/**
 * A channel's MP3 stream that sends a song's stored frames where it can
 * instead of encoding it again (see frame-store.ts): LAME, 0.6-0.8 % of a
 * core per channel, runs only around what differs from the last play (the
 * crossfades, skips, shows), and the first play of every song records it.
 *
 * The stream is a sequence of frames on one grid: frame n carries PCM
 * blocks n-1..n (LAME delays its input 576 samples), every encoder run
 * starts on a block boundary, and songs start on one (playout/operators/
 * crossfade.ts aligns crossfades), so frame k of a song's take can stand
 * for frame F0 + k of this play. It may where the checksums of blocks
 * n-2..n+1 of this play's PCM equal the take's. Each switch between a run
 * and a take is made on a frame where the joining frame's bit reservoir
 * fits (audio/mp3-splice.ts), its reservoir bytes copied into the tails of
 * frames not yet released: frames are held back a few (`holdFrames`) while
 * a switch may come. A run leaving a take starts `PREROLL` frames early, so
 * its frame at the join has its overlap and reservoir built on the same PCM.
 */
import type { Logger } from 'pino';
import type { TrackInfo } from '../acquire/track-info.js';
import { MP3_FRAME_SAMPLES, Mp3FrameSplitter, type PacedFrame } from '../audio/mp3.js';
import { reachOf, patchTail, reservoirFrames } from '../audio/mp3-splice.js';
import { BYTES_PER_PCM_FRAME } from '../audio/pcm.js';
import { blockSum, type FrameStore, type StoredTake } from './frame-store.js';
import { TakeRecordings } from './take-recordings.js';
import type { PcmEncoder } from './encoder.js';

const BLOCK_BYTES = MP3_FRAME_SAMPLES * BYTES_PER_PCM_FRAME;
/** LAME's 576 samples plus the decoder's 529: a sample written comes out this much later. */
const DELAY = 1105;
/** Frames a run encodes before the frame it joins at. */
export const PREROLL = 8;
/** Earlier frames tried when the first a run could join at does not fit. */
const SEARCH = 3;
/** Blocks of PCM kept for a run's preroll. */
const RING = 32;
/** A run's frames kept, for the bytes a join reads from them. */
const RUN_KEEP = 24;

export interface SplicingOptions {
  bitrateKbps: number;
  /** A new encoder run (the channel's encoder, any tool). */
  startEncoder: () => PcmEncoder;
  store: FrameStore;
  /** What, besides the PCM, makes this stream's frames differ from another's (bitrate, encoder, settings). */
  variant: string;
  log: Logger;
  onFrame: (frame: PacedFrame<TrackInfo>) => void;
  onFailed: (err: Error) => void;
}

/** One encoder run: PCM from block `start` on, its frame j is the stream's frame start + j. */
interface Run {
  start: number;
  encoder: PcmEncoder;
  splitter: Mp3FrameSplitter;
  /** Frames out so far. */
  produced: number;
  /** Its latest frames, by stream frame number. */
  frames: Map<number, Buffer>;
  /** Dropped by us: what it still sends is ignored. */
  dropped: boolean;
}

/** A song's take, placed on this stream: its frame k is the stream's frame f0 + k. */
interface Take {
  f0: number;
  stored: StoredTake;
  /** Frames of it sent. */
  used: number;
}

export class SplicingEncoding {
  fedSamples = 0;
  /** Frames sent from stored takes, and from encoder runs. */
  reusedFrames = 0;
  encodedFrames = 0;
  /** Joins made without a fitting frame (the reservoir read across: a short glitch). */
  roughJoins = 0;
  private readonly decided: { n: number; data: Buffer; stored: boolean }[] = [];
  /** The next frame to decide. */
  private next = 0;
  private samplesOut = 0;
  private readonly marks: { sample: number; info: TrackInfo }[] = [];
  private blocks = 0;
  /** PCM short of a block, its first `partialBytes` (reused, as the ring: a write allocates nothing). */
  private readonly partial = Buffer.alloc(BLOCK_BYTES);
  private partialBytes = 0;
  /** The last RING blocks of PCM, block b at b % RING (reused: a block costs no allocation). */
  private readonly ring: Buffer[] = Array.from({ length: RING }, () => Buffer.alloc(BLOCK_BYTES));
  private readonly ringWords = this.ring.map((b) => new Int32Array(b.buffer, b.byteOffset, MP3_FRAME_SAMPLES));
  private readonly sums = new Int32Array(RING);
  private run: Run | null = null;
  private mode: 'live' | 'take' | 'leaving' = 'live';
  /** Where a run leaving a take joins (the first frame not from the take), in 'leaving'. */
  private leaveAt = 0;
  private active: Take | null = null;
  private upcoming: Take | null = null;
  private readonly recordings: TakeRecordings;
  private closing = false;
  /** Takes may be entered, frames held back for it (see holdBack). */
  private holding = true;
  private failed = false;
  private readonly needFrames: number;
  private readonly holdFrames: number;

  constructor(private readonly o: SplicingOptions) {
    this.needFrames = reservoirFrames(o.bitrateKbps);
    this.holdFrames = this.needFrames + SEARCH;
    this.recordings = new TakeRecordings(o.store, o.variant);
    this.run = this.startRun(0);
  }

  /** Samples in frames decided but held back for a switch. */
  get heldSamples(): number {
    return this.decided.length * MP3_FRAME_SAMPLES;
  }

  get running(): boolean {
    return !this.failed;
  }

  /**
   * Whether frames may be held back for switches (the channel says no while
   * a DJ is coming or on: it then queues too little). Off, a take being sent
   * is left at once, joined properly while frames are still held, and none
   * is entered until it is on again.
   */
  holdBack(allowed: boolean): void {
    if (allowed === this.holding) return;
    this.holding = allowed;
    if (!allowed && this.mode === 'take') {
      this.leave(this.next);
      this.pump();
    }
  }

  /** The song's title goes up `delay` samples into the next PCM. */
  markSongStart(info: TrackInfo, delay = 0): void {
    this.marks.push({ sample: this.fedSamples + delay, info });
  }

  /**
   * The song's first sample is `delay` samples into the next PCM: on a
   * frame boundary, its take is looked for and a new one recorded. Takes
   * are kept per gain (`gainDb`, the song's loudness gain here): channels
   * at two loudness targets keep one each, rather than overwrite each
   * other's at every play.
   */
  songStart(info: TrackInfo, delay = 0, gainDb = 0): void {
    const sample = this.fedSamples + delay;
    this.recordings.songAt(Math.floor(sample / MP3_FRAME_SAMPLES));
    if (sample % MP3_FRAME_SAMPLES !== 0 || info.source === 'live') return;
    const f0 = sample / MP3_FRAME_SAMPLES;
    const key = `${info.key} ${gainDb.toFixed(2)} dB`;
    const stored = this.o.store.open(key, this.o.variant);
    this.upcoming?.stored.close();
    this.upcoming = stored ? { f0, stored, used: 0 } : null;
    this.recordings.start(key, f0, stored?.frameCount ?? 0, this.upcoming);
  }

  write(pcm: Buffer): void {
    if (this.failed) return;
    const had = this.run;
    had?.encoder.write(pcm);
    this.fedSamples += pcm.length / BYTES_PER_PCM_FRAME;
    let at = 0;
    if (this.partialBytes > 0) {
      at = pcm.copy(this.partial, this.partialBytes);
      this.partialBytes += at;
      if (this.partialBytes === BLOCK_BYTES) {
        this.addBlock(this.partial, 0);
        this.partialBytes = 0;
      }
    }
    if (this.partialBytes === 0) {
      for (; at + BLOCK_BYTES <= pcm.length; at += BLOCK_BYTES) this.addBlock(pcm, at);
      this.partialBytes = pcm.copy(this.partial, 0, at);
    }
    this.pump();
  }

  private addBlock(from: Buffer, at: number): void {
    const b = this.blocks++;
    from.copy(this.ring[b % RING]!, 0, at, at + BLOCK_BYTES);
    const sum = blockSum(this.ringWords[b % RING]!);
    this.sums[b % RING] = sum;
    this.recordings.addSum(b, sum);
  }

  /** Let the run encode what it has, send everything, keep the takes recorded so far. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.run && !this.run.dropped) await this.run.encoder.close();
    this.pump();
    this.release();
    this.recordings.finishAll();
    this.active?.stored.close();
    this.upcoming?.stored.close();
  }

  destroy(): void {
    this.failed = true;
    if (this.run) {
      this.run.dropped = true;
      this.run.encoder.destroy();
    }
    this.recordings.discardAll();
    this.active?.stored.close();
    if (this.upcoming !== this.active) this.upcoming?.stored.close();
    this.active = this.upcoming = null;
  }

  private startRun(start: number): Run {
    const run: Run = { start, encoder: this.o.startEncoder(), splitter: new Mp3FrameSplitter(), produced: 0, frames: new Map(), dropped: false };
    run.encoder.on('data', (chunk: Buffer) => {
      if (run.dropped) return;
      for (const f of run.splitter.push(chunk)) {
        const n = run.start + run.produced++;
        run.frames.set(n, Buffer.from(f.data));
        run.frames.delete(n - RUN_KEEP);
      }
      this.pump();
    });
    run.encoder.on('failed', (err: Error) => {
      if (run.dropped || this.failed) return;
      this.failed = true;
      this.o.onFailed(err);
    });
    return run;
  }

  private drop(run: Run | null): void {
    if (!run) return;
    run.dropped = true;
    run.encoder.destroy();
    if (this.run === run) this.run = null;
  }

  private pumping = false;
  private pumpAgain = false;

  /**
   * Decide every frame that can be, then release those no switch can touch
   * any more. An encoder in this process hands out its frames while it is
   * being written to, which may be from inside a pump (a run started to
   * leave a take is given its preroll): that pump goes round again instead.
   */
  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        this.decideAll();
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
  }

  private decideAll(): void {
    if (this.failed) return;
    for (let guard = 0; guard < 100_000; guard++) {
      const n = this.next;
      if (this.mode === 'take') {
        const take = this.active!;
        if (this.blocks <= n + 1) break;
        if (this.valid(take, n)) {
          this.decide(n, take.stored.frames(n - take.f0, n - take.f0 + 1)[0]!, take);
          continue;
        }
        this.leave(n);
        continue;
      }
      const run = this.run;
      if (!run) break;
      if (this.mode === 'leaving') {
        if (!run.frames.has(this.leaveAt) && !this.closing) break;
        this.joinRun(run);
        continue;
      }
      const frame = run.frames.get(n);
      if (!frame) break;
      const take = this.upcoming;
      if (take && this.holding && n >= take.f0 + 2 && n - take.f0 < take.stored.frameCount && !this.closing) {
        if (this.blocks <= n + 1) break;
        if (this.valid(take, n) && this.enterTake(take, n, frame)) continue;
      }
      this.decide(n, frame, null);
    }
    this.release();
  }

  /** Frame n of the stream may be frame n - f0 of the take: this play's PCM around it is the take's. */
  private valid(take: Take, n: number): boolean {
    const k = n - take.f0;
    if (k < 2 || k >= take.stored.frameCount) return false;
    for (let b = n - 2; b <= n + 1; b++) {
      if (b < this.blocks - RING || b >= this.blocks) return false;
      const j = b - take.f0;
      if (j < 0 || j >= take.stored.sums.length || take.stored.sums[j] !== this.sums[b % RING]) return false;
    }
    return true;
  }

  /** From the run to the take at frame n, if the take's frame fits after the run's frames held back. */
  private enterTake(take: Take, n: number, runFrame: Buffer): boolean {
    const k = n - take.f0;
    const [first] = take.stored.frames(k, k + 1);
    if (!first) return false;
    const need = reachOf(first);
    if (need > reachOf(runFrame) || !this.patch(take.stored.frames(k - this.needFrames - 1, k), need)) return false;
    this.drop(this.run);
    this.active = take;
    this.upcoming = null;
    this.mode = 'take';
    this.o.log.debug({ frame: n, songFrame: k }, 'sending stored frames');
    return true;
  }

  /** The take no longer holds at frame m: a run starts PREROLL frames before, to join at m or a little earlier. */
  private leave(m: number): void {
    const start = Math.max(0, m - PREROLL, this.blocks - RING);
    const run = this.startRun(start);
    // Set before the run is written to: its frames may come out while it is.
    this.run = run;
    this.mode = 'leaving';
    this.leaveAt = m;
    // Copies: the ring's blocks are overwritten while an encoder may still hold what it was given.
    for (let b = start; b < this.blocks; b++) run.encoder.write(Buffer.from(this.ring[b % RING]!));
    if (this.partialBytes) run.encoder.write(Buffer.from(this.partial.subarray(0, this.partialBytes)));
    if (this.closing) void run.encoder.close().then(() => this.pump());
  }

  /** Join the run after the take's frames: at leaveAt, or up to SEARCH frames earlier where its frame fits. */
  private joinRun(run: Run): void {
    const take = this.active!;
    for (let m = this.leaveAt; m >= this.leaveAt - SEARCH && m >= run.start + 4; m--) {
      const frame = run.frames.get(m);
      const held = this.decided.findIndex((d) => d.n === m);
      if (!frame || (m < this.leaveAt && held < 0)) continue;
      const free = m < this.leaveAt ? reachOf(this.decided[held]!.data) : reachOf(take.stored.frames(m - take.f0, m - take.f0 + 1)[0] ?? Buffer.alloc(0));
      const need = reachOf(frame);
      if (need > free) continue;
      const before: Buffer[] = [];
      for (let j = m - this.needFrames - 1; j < m; j++) if (run.frames.has(j)) before.push(run.frames.get(j)!);
      // Undo the take's frames from m on, then patch those before m.
      const undone = this.decided.filter((d) => d.n >= m).length;
      const saved = this.decided.slice(this.decided.length - undone);
      this.decided.length -= undone;
      this.next = m;
      if (!this.patch(before, need)) {
        this.decided.push(...saved);
        this.next = m + undone;
        continue;
      }
      take.used -= undone;
      this.finishTake();
      return;
    }
    // Nothing fits: join where the take ended; the first frame may read a few wrong bytes.
    this.roughJoins++;
    this.o.log.warn({ frame: this.leaveAt }, 'stored frames left without a fitting join');
    this.next = this.leaveAt;
    this.finishTake();
  }

  private finishTake(): void {
    this.active?.stored.close();
    this.active = null;
    this.mode = 'live';
  }

  /**
   * Copy, into the tails of the frames held back, the `need` bytes a joining
   * frame reads from the frames before it in its own stream (`before`, oldest
   * first). False if too few frames are held back for them.
   */
  private patch(before: Buffer[], need: number): boolean {
    if (need === 0) return true;
    const count = Math.min(this.needFrames, this.decided.length);
    const tail = this.decided.slice(this.decided.length - count);
    try {
      const copies = patchTail(
        tail.map((d) => d.data),
        before,
        need,
      );
      tail.forEach((d, i) => (d.data = copies[i]!));
      return true;
    } catch {
      return false;
    }
  }

  private decide(n: number, data: Buffer, take: Take | null): void {
    this.decided.push({ n, data, stored: take !== null });
    this.next = n + 1;
    if (take) take.used++;
  }

  /** Frames leave once no switch can reach back to them (all of them when nothing stored could be switched to). */
  private release(): void {
    const switching = !this.closing && (this.mode !== 'live' || (this.upcoming !== null && this.holding));
    const hold = switching ? this.holdFrames : 0;
    while (this.decided.length > hold) {
      const { n, data, stored } = this.decided.shift()!;
      this.samplesOut += MP3_FRAME_SAMPLES;
      let marker: TrackInfo | undefined;
      while (this.marks.length > 0 && this.marks[0]!.sample + DELAY < this.samplesOut) marker = this.marks.shift()!.info;
      if (stored) this.reusedFrames++;
      else this.encodedFrames++;
      this.recordings.addFrame(n, data);
      this.o.onFrame({ data, samples: MP3_FRAME_SAMPLES, marker });
    }
  }
}
