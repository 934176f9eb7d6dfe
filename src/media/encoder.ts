import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import type ffmpeg from 'fluent-ffmpeg';
import type { Logger } from 'pino';
import { CHANNELS, SAMPLE_RATE } from '../audio/pcm.js';
import { FfmpegError } from '../errors.js';
import { ffmpegCommand } from './ffmpeg-command.js';

/**
 * Lifecycle: running --close()--> closing --> closed
 *            running --process dies--> failed (the channel starts a new one)
 */
export type EncoderStatus = 'running' | 'closing' | 'closed' | 'failed';

/**
 * The channel's one continuous MP3 encoder: raw PCM in, CBR MP3 out. Being
 * one process for the channel's whole life is what makes seams gapless: no
 * encoder delay or padding is ever added between songs, and silence is just
 * zero samples.
 *
 * Events: `data` (Buffer of MP3 bytes), `status` (EncoderStatus), `failed` (Error).
 */
export class Mp3Encoder extends EventEmitter {
  status: EncoderStatus = 'running';
  private readonly input = new PassThrough({ highWaterMark: 256 * 1024 });
  private readonly output = new PassThrough();
  private readonly command: ffmpeg.FfmpegCommand;
  private readonly exited: Promise<void>;

  constructor(ffmpegPath: string, bitrateKbps: number, logger: Logger) {
    super();
    this.command = ffmpegCommand(ffmpegPath, { stdoutLines: 20 })
      .input(this.input)
      .inputFormat('s16le')
      // Raw PCM needs no probing; by default ffmpeg would read 5 s of it before encoding anything.
      .inputOptions(['-ar', String(SAMPLE_RATE), '-ac', String(CHANNELS), '-probesize', '32', '-analyzeduration', '0'])
      .noVideo()
      .audioCodec('libmp3lame')
      .audioBitrate(bitrateKbps)
      .audioFrequency(SAMPLE_RATE)
      .audioChannels(CHANNELS)
      .format('mp3')
      // No Xing/ID3 header: the stream is endless and must be frames only.
      // Flush every packet so audio is never held back in ffmpeg's buffer.
      .outputOptions(['-write_xing', '0', '-id3v2_version', '0', '-flush_packets', '1', '-hide_banner', '-loglevel', 'error']);
    this.exited = new Promise((resolve) => {
      this.command.on('start', (line: string) => logger.debug({ command: line }, 'encoder started'));
      this.command.on('end', () => {
        this.setStatus('closed');
        resolve();
      });
      this.command.on('error', (err: Error, _stdout: string | null, stderr: string | null) => {
        if (this.status === 'closing' || this.status === 'closed') {
          this.setStatus('closed');
        } else {
          this.setStatus('failed');
          this.emit('failed', new FfmpegError('encoder', `${err.message} ${stderr ?? ''}`.trim(), { cause: err }));
        }
        resolve();
      });
    });
    this.output.on('data', (chunk: Buffer) => this.emit('data', chunk));
    this.command.pipe(this.output, { end: true });
  }

  /** Queue PCM (s16le, 44.1 kHz, stereo). Dropped once the encoder is not running. */
  write(pcm: Buffer): void {
    if (this.status === 'running') this.input.write(pcm);
  }

  /** Let ffmpeg encode what it has and exit. Idempotent. */
  async close(): Promise<void> {
    if (this.status === 'running') {
      this.setStatus('closing');
      this.input.end();
      const timer = setTimeout(() => this.command.kill('SIGKILL'), 2000);
      await this.exited;
      clearTimeout(timer);
    }
    await this.exited;
  }

  /** Stop at once. Idempotent. */
  destroy(): void {
    if (this.status === 'closed') return;
    if (this.status !== 'failed') this.setStatus('closing');
    this.input.destroy();
    this.command.kill('SIGKILL');
  }

  private setStatus(next: EncoderStatus): void {
    if (this.status === next) return;
    this.status = next;
    this.emit('status', next);
  }
}
