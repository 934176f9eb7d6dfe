import type { Logger } from 'pino';
import { AdtsFrameSplitter } from '../audio/adts.js';
import { Mp3FrameSplitter, type PacedFrame } from '../audio/mp3.js';
import { BYTES_PER_PCM_FRAME } from '../audio/pcm.js';
import { PcmEncoder, type EncoderOptions, type EncoderSpec } from './encoder.js';
import type { TrackInfo } from '../acquire/track-info.js';

/** How an encoder's bytes are cut into frames, and how late a sample comes out of encoder and decoder. */
interface Framing {
  split(chunk: Buffer): { data: Buffer; samples: number }[];
  /** Samples a decoder outputs before a given input sample. */
  delay: number;
}

function framingOf(codec: 'mp3' | 'aac'): Framing {
  if (codec === 'aac') {
    const splitter = new AdtsFrameSplitter();
    // ffmpeg's AAC encoder primes 1024 samples; ADTS has no edit list to hide them.
    return { split: (chunk) => splitter.push(chunk).map((f) => ({ data: f.data, samples: f.header.samples })), delay: 1024 };
  }
  const splitter = new Mp3FrameSplitter();
  // LAME's 576 + the decoder's 529.
  return { split: (chunk) => splitter.push(chunk).map((f) => ({ data: f.data, samples: f.header.samplesPerFrame })), delay: 1105 };
}

/**
 * One run of an encoder process (or library): PCM in, MP3 or AAC frames out, with the frame
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
  /** Samples in the frames out so far. */
  private samplesOut = 0;
  private readonly marks: { sample: number; info: TrackInfo }[] = [];
  private readonly framing: Framing;
  private readonly encoder: PcmEncoder;

  constructor(
    encoder: EncoderSpec,
    bitrateKbps: number,
    log: Logger,
    opts: EncoderOptions,
    onFrame: (frame: PacedFrame<TrackInfo>) => void,
    onFailed: (err: Error) => void,
  ) {
    this.framing = framingOf(opts.codec ?? 'mp3');
    this.encoder = new PcmEncoder(encoder, bitrateKbps, log, opts);
    this.encoder.on('data', (chunk: Buffer) => {
      for (const frame of this.framing.split(chunk)) {
        let marker: TrackInfo | undefined;
        this.samplesOut += frame.samples;
        // The frame that carries the song's first sample.
        while (this.marks.length > 0 && this.marks[0]!.sample + this.framing.delay < this.samplesOut) marker = this.marks.shift()!.info;
        onFrame({ data: frame.data, samples: frame.samples, marker });
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
