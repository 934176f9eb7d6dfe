import { PassThrough } from 'node:stream';
import type ffmpeg from 'fluent-ffmpeg';
import { ByteQueue } from '../audio/byte-queue.js';
import { BYTES_PER_PCM_FRAME, CHANNELS, SAMPLE_RATE, pcmBytesFor } from '../audio/pcm.js';
import { FfmpegError } from '../kernel/errors.js';
import { SAFE_INPUT_OPTIONS, fileInput, streamInputOptions, type StreamInput } from '../ffmpeg/input.js';
import { ffmpegCommand } from '../ffmpeg/command.js';

/**
 * Where a decoder stands. `decoding`: ffmpeg runs. `exited`: ffmpeg is gone,
 * what it decoded is in our buffers, `error` says if it failed. `abandoned`:
 * given up on for making no progress. `destroyed`: freed by its owner.
 */
export type DecoderStatus =
  { state: 'decoding' } | { state: 'exited'; error: FfmpegError | null } | { state: 'abandoned'; error: FfmpegError } | { state: 'destroyed' };

/**
 * One song decoded to the channel's PCM format, read on demand. Not reading
 * leaves ffmpeg blocked on a full pipe, so a decoder started ahead of time
 * holds at most a few hundred KiB while it waits for its turn.
 */
export class PcmDecoder {
  /** Bytes handed out so far. */
  bytesRead = 0;
  status: DecoderStatus = { state: 'decoding' };

  // What a tick can take without waiting for the event loop: more than a calm tick's 250 ms (48 KB) of PCM.
  // Not much more: what is buffered here plays out even if ffmpeg dies, and costs memory per channel.
  private readonly out = new PassThrough({ highWaterMark: 64 * 1024 });
  private readonly command: ffmpeg.FfmpegCommand;
  /** What was read from the pipe and not taken yet (one reused buffer: see ByteQueue). */
  private readonly queue = new ByteQueue();
  /** The pipe from ffmpeg has ended: every decoded byte has reached the queue. */
  private streamEnded = false;
  private readonly finished: Promise<void>;

  /** Stop after this many bytes: the end padding of AAC frames is not part of the song. */
  private readonly limit: number;

  /**
   * @param opts.startSeconds where to begin, into the file (a cue-in): ffmpeg seeks there, sample-exact.
   * @param opts.exactSeconds how much to decode from there (to a cue-out, or the MP4 edit list's end).
   */
  constructor(ffmpegPath: string, input: string | StreamInput, opts: { exactSeconds?: number | null; startSeconds?: number } = {}) {
    this.limit = opts.exactSeconds ? pcmBytesFor(opts.exactSeconds) : Infinity;
    const seek = opts.startSeconds && opts.startSeconds > 0 ? ['-ss', opts.startSeconds.toFixed(3)] : [];
    const command = ffmpegCommand(ffmpegPath, { stdoutLines: 20 });
    if (typeof input === 'string') command.input(fileInput(input)).inputOptions([...SAFE_INPUT_OPTIONS, ...seek]);
    else command.input(input.stream).inputOptions(streamInputOptions(input.format));
    this.command = command
      .noVideo()
      .audioChannels(CHANNELS)
      .audioFrequency(SAMPLE_RATE)
      .format('s16le')
      .outputOptions(['-map', '0:a:0', '-sn', '-dn', '-hide_banner', '-loglevel', 'error']);
    this.finished = new Promise((resolve) => {
      this.command.on('end', () => {
        if (this.status.state === 'decoding') this.status = { state: 'exited', error: null };
        resolve();
      });
      this.command.on('error', (err: Error, _stdout: string | null, stderr: string | null) => {
        // Killed by abandon() or destroy(): the status already says why.
        if (this.status.state === 'decoding') {
          this.status = { state: 'exited', error: new FfmpegError('decoder', lastLines(stderr) || err.message, { cause: err }) };
        }
        resolve();
      });
    });
    this.out.on('end', () => {
      this.streamEnded = true;
    });
    this.command.pipe(this.out, { end: true });
  }

  /** Set when ffmpeg failed (a corrupt file, or killed) or the decoder was abandoned. */
  get error(): FfmpegError | null {
    const s = this.status;
    return s.state === 'exited' || s.state === 'abandoned' ? s.error : null;
  }

  /** Resolves when ffmpeg has exited (successfully or not). */
  get done(): Promise<void> {
    return this.finished;
  }

  /** True once every decoded byte has been taken (or the decoder was abandoned). */
  get ended(): boolean {
    if (this.bytesRead >= this.limit || this.status.state === 'abandoned') return true;
    this.pull(1);
    return this.streamEnded && this.queue.length === 0;
  }

  /**
   * Read ahead until `bytes` are buffered here (or nothing more is ready
   * now); returns the bytes buffered. A crossfade reads a song's last
   * seconds ahead, to know exactly where it ends.
   */
  lookahead(bytes: number): number {
    this.pull(Math.min(bytes, this.limit - this.bytesRead));
    return Math.min(this.queue.length, this.limit - this.bytesRead);
  }

  /** Every byte left of the song is buffered: `lookahead` tells exactly how much is left. */
  get complete(): boolean {
    if (this.status.state === 'abandoned' || this.bytesRead + this.queue.length >= this.limit) return true;
    this.pull(1);
    return this.streamEnded;
  }

  /** Up to `max` bytes of PCM, always whole sample frames; null when none is ready now. A view: read it before asking the decoder again. */
  take(max: number): Buffer | null {
    max = Math.min(max, this.limit - this.bytesRead);
    if (max <= 0) return null;
    this.pull(max);
    let n = Math.min(max, this.queue.length);
    if (!this.streamEnded || n < this.queue.length) n -= n % BYTES_PER_PCM_FRAME;
    if (n <= 0) return null;
    let piece = this.shift(n);
    // A truncated last sample frame would shift every following sample: pad it.
    if (piece.length % BYTES_PER_PCM_FRAME !== 0) {
      piece = Buffer.concat([piece, Buffer.alloc(BYTES_PER_PCM_FRAME - (piece.length % BYTES_PER_PCM_FRAME))]);
    }
    this.bytesRead += piece.length;
    return piece;
  }

  /** The first `n` buffered bytes (a view into the queue), taken off it. */
  private shift(n: number): Buffer {
    const piece = this.queue.peek(n);
    this.queue.drop(n);
    return piece;
  }

  /** Once every byte is decoded: how many of the last bytes buffered are below `threshold` (a stream's encoder padding), in whole frames. */
  trailingSilence(threshold: number): number {
    if (!this.complete) return 0;
    const pcm = this.queue.all();
    let silent = 0;
    for (let i = pcm.length - 2; i >= 0; i -= 2) {
      const v = pcm.readInt16LE(i);
      if (v >= threshold || v <= -threshold) break;
      silent += 2;
    }
    return silent - (silent % BYTES_PER_PCM_FRAME);
  }

  /** Give up on a decoder that makes no progress: kill it, and end the song with `reason` as its error. */
  abandon(reason: string): void {
    if (this.status.state === 'abandoned' || this.status.state === 'destroyed') return;
    this.status = { state: 'abandoned', error: new FfmpegError('decoder', reason) };
    this.free();
  }

  /** Free it (an abandoned decoder is freed already, and keeps its reason). */
  destroy(): void {
    if (this.status.state === 'destroyed' || this.status.state === 'abandoned') return;
    this.status = { state: 'destroyed' };
    this.free();
  }

  private free(): void {
    this.command.kill('SIGKILL');
    this.out.destroy();
    this.queue.clear();
  }

  private pull(want: number): void {
    while (this.queue.length < want) {
      const chunk = this.out.read() as Buffer | null;
      if (chunk === null) break;
      this.queue.push(chunk);
    }
    // read() returning null on an ended stream still needs 'end' to fire.
    if (this.out.readableEnded) this.streamEnded = true;
  }
}

function lastLines(stderr: string | null | undefined): string {
  return (stderr ?? '').trim().split('\n').slice(-3).join(' | ');
}
