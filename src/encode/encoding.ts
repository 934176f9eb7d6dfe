import type { Logger } from 'pino';
import { MP3_FRAME_SAMPLES, Mp3FrameSplitter, type PacedFrame } from '../audio/mp3.js';
import { BYTES_PER_PCM_FRAME } from '../audio/pcm.js';
import { Mp3Encoder, type EncoderOptions, type EncoderSpec } from './encoder.js';
import type { TrackInfo } from '../acquire/track-info.js';

/** Samples a decoder outputs before a given input sample: LAME's 576 + the decoder's 529. */
const ENCODER_DELAY = 1105;

/**
 * One run of the channel's encoder: PCM in, MP3 frames out, with the frame
 * where each song begins marked. A song's start is known as a PCM sample
 * position; the encoder delays every sample by a fixed amount, so the frame
 * that carries it is computed, not guessed, and announced when that frame
 * is sent.
 *
 * Emits frames through `onFrame`; `onFailed` when the encoder dies (the channel
 * then starts a new session).
 */
export class EncodingSession {
  /** Samples written so far. */
  fedSamples = 0;
  private framesOut = 0;
  private readonly marks: { sample: number; info: TrackInfo }[] = [];
  private readonly splitter = new Mp3FrameSplitter();
  private readonly encoder: Mp3Encoder;

  constructor(
    encoder: EncoderSpec,
    bitrateKbps: number,
    log: Logger,
    opts: EncoderOptions,
    onFrame: (frame: PacedFrame<TrackInfo>) => void,
    onFailed: (err: Error) => void,
  ) {
    this.encoder = new Mp3Encoder(encoder, bitrateKbps, log, opts);
    this.encoder.on('data', (chunk: Buffer) => {
      for (const frame of this.splitter.push(chunk)) {
        let marker: TrackInfo | undefined;
        const k = this.framesOut++;
        while (this.marks.length > 0 && Math.floor((this.marks[0]!.sample + ENCODER_DELAY) / MP3_FRAME_SAMPLES) <= k) {
          marker = this.marks.shift()!.info;
        }
        onFrame({ data: frame.data, samples: frame.header.samplesPerFrame, marker });
      }
    });
    this.encoder.on('failed', onFailed);
  }

  /** The next PCM written starts this song, `delay` samples in (a stage before the encoder delays the stream that much). */
  markSongStart(info: TrackInfo, delay = 0): void {
    this.marks.push({ sample: this.fedSamples + delay, info });
  }

  /** Whether written PCM reaches the air (false once the encoder has died). */
  get running(): boolean {
    return this.encoder.status === 'running';
  }

  write(pcm: Buffer): void {
    this.encoder.write(pcm);
    this.fedSamples += pcm.length / BYTES_PER_PCM_FRAME;
  }

  close(): Promise<void> {
    return this.encoder.close();
  }

  destroy(): void {
    this.encoder.destroy();
  }
}
