import type { Logger } from 'pino';
import type { TrackInfo } from '../acquire/track-info.js';
import { exponentialBackoff } from '../kernel/retry.js';
import type { PacedFrame } from '../audio/mp3.js';
import type { Timers } from '../kernel/lifecycle.js';

/** One run of a channel's encoder: PCM in, MP3 frames out (EncodingSession, or a fake in tests). */
export interface Encoding {
  /** Samples written so far. */
  readonly fedSamples: number;
  /** Whether written PCM reaches the air (false once the encoder has died). */
  readonly running: boolean;
  write(pcm: Buffer): void;
  /** The next PCM written carries this song's title, `delay` samples in. */
  markSongStart(info: TrackInfo, delay: number): void;
  /** The song's first sample itself is `delay` samples into the next PCM (its title may go up later, mid-crossfade). */
  songStart?(info: TrackInfo, delay: number, gainDb: number): void;
  /** Whether frames may be held back a few for a switch to stored ones (not while little is queued). */
  holdBack?(allowed: boolean): void;
  /** Samples in frames made but held back for a join. */
  readonly heldSamples?: number;
  /** Let it encode what it has, and exit. */
  close(): Promise<void>;
  /** Stop at once. */
  destroy(): void;
  /** MP3 frames sent from a song's last play, and encoded (a splicing encoding only). */
  readonly reusedFrames?: number;
  readonly encodedFrames?: number;
}

export type StartEncoding = (opts: { outputBlockMs: number; onFrame: (frame: PacedFrame<TrackInfo>) => void; onFailed: (err: Error) => void }) => Encoding;

/** Encoder restarts: 100 ms, doubling up to 5 s while it keeps failing (silence is on air meanwhile). */
const ENCODER_RESTART = exponentialBackoff({ baseMs: 100, capMs: 5000, random: () => 1 });
/** An encoder that ran this long was healthy: its failure starts the backoff afresh. */
const ENCODER_HEALTHY_MS = 30_000;

export interface EncoderKeeperOptions {
  start: StartEncoding;
  outputBlockMs: number;
  log: Logger;
  now: () => number;
  timers: Timers;
  /** Samples the clock has sent: a run counts from there. */
  sent: () => number;
  onFrame: (frame: PacedFrame<TrackInfo>) => void;
  /** The encoder died: frames not yet sent are lost. */
  onFailed: () => void;
  /** A new run began after a failure. */
  onRestarted: () => void;
}

/**
 * Keeps a channel's encoder running: a new run when one dies, after a
 * backoff while it keeps dying. Counts samples across runs on the clock's
 * count, so the channel's feed level stays right after a restart.
 */
export class EncoderKeeper {
  restarts = 0;
  private session: Encoding | null = null;
  /** Samples the clock had sent when the current run began. */
  private base = 0;
  private startedAt = 0;
  private failuresInRow = 0;
  private stopped = false;
  private cancelRestart: (() => void) | null = null;
  /** Frames reused and encoded by runs before the current one. */
  private past = { reused: 0, encoded: 0 };

  constructor(private readonly opts: EncoderKeeperOptions) {}

  start(): void {
    this.past = this.frames;
    this.startedAt = this.opts.now();
    this.base = this.opts.sent();
    this.session = this.opts.start({ outputBlockMs: this.opts.outputBlockMs, onFrame: this.opts.onFrame, onFailed: (err) => this.failed(err) });
  }

  /** Samples written across runs, on the clock's count. */
  get fedSamples(): number {
    return this.base + (this.session?.fedSamples ?? 0);
  }

  /** Frames the channel sent from songs' last plays, and frames it encoded, across runs (zero unless it reuses frames). */
  get frames(): { reused: number; encoded: number } {
    return { reused: this.past.reused + (this.session?.reusedFrames ?? 0), encoded: this.past.encoded + (this.session?.encodedFrames ?? 0) };
  }

  get running(): boolean {
    return this.session?.running ?? false;
  }

  write(pcm: Buffer): void {
    this.session?.write(pcm);
  }

  markSongStart(info: TrackInfo, delay: number): void {
    this.session?.markSongStart(info, delay);
  }

  songStart(info: TrackInfo, delay: number, gainDb: number): void {
    this.session?.songStart?.(info, delay, gainDb);
  }

  holdBack(allowed: boolean): void {
    this.session?.holdBack?.(allowed);
  }

  get heldSamples(): number {
    return this.session?.heldSamples ?? 0;
  }

  private closing: Promise<void> | undefined;

  /** A second call returns the first's promise. */
  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    this.stopped = true;
    this.cancelRestart?.();
    await this.session?.close();
  }

  destroy(): void {
    this.stopped = true;
    this.cancelRestart?.();
    this.session?.destroy();
  }

  private failed(err: Error): void {
    if (this.stopped) return;
    this.restarts += 1;
    // Back off only while it keeps failing: one crash a week restarts at once.
    if (this.opts.now() - this.startedAt > ENCODER_HEALTHY_MS) this.failuresInRow = 0;
    this.failuresInRow += 1;
    const wait = ENCODER_RESTART(this.failuresInRow, err) ?? 5000;
    this.opts.log.error({ err: err.message, retryInMs: wait }, 'encoder failed; silence until it is back');
    this.opts.onFailed();
    this.cancelRestart = this.opts.timers.after(wait, () => {
      this.cancelRestart = null;
      if (this.stopped) return;
      this.start();
      this.opts.onRestarted();
    });
  }
}
