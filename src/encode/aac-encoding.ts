import { adtsHeader } from '../audio/adts.js';
import type { PacedFrame } from '../audio/mp3.js';
import { BYTES_PER_PCM_FRAME, CHANNELS, SAMPLE_RATE } from '../audio/pcm.js';
import type { TrackInfo } from '../acquire/track-info.js';
import { EncoderError } from '../kernel/errors.js';
import { aacCoderFor, avcodecLibrary, type AacEncoder } from './avcodec-lib.js';

/** MPEG-4 audio object type 2: AAC-LC, what ffmpeg's native encoder makes. */
const AAC_LC = 2;

export interface AacEncodingOptions {
  bitrateKbps: number;
  onFrame: (frame: PacedFrame<TrackInfo>) => void;
  onFailed: (err: Error) => void;
}

/**
 * A channel's AAC rendition encoded in this process by ffmpeg's own AAC
 * encoder (libavcodec through koffi): PCM in, ADTS frames out, the frame
 * carrying each song's first sample marked, as the ffmpeg process would
 * give them, at a fraction of the cost (no process, no pipes both ways, no
 * muxer). The encoder primes `delay` samples, which ADTS cannot hide: the
 * marks count them.
 */
export class AacAdtsEncoding {
  /** Station samples written. */
  fedSamples = 0;
  private readonly encoder: AacEncoder;
  private readonly planes: Float32Array[];
  /** Samples waiting in `planes` for a whole frame. */
  private filled = 0;
  private samplesOut = 0;
  private readonly marks: { sample: number; info: TrackInfo }[] = [];
  private status: 'running' | 'closed' | 'failed' = 'running';

  constructor(private readonly opts: AacEncodingOptions) {
    this.encoder = avcodecLibrary().aacEncoder({
      sampleRate: SAMPLE_RATE,
      channels: CHANNELS,
      bitrateKbps: opts.bitrateKbps,
      coder: aacCoderFor(opts.bitrateKbps),
    });
    this.planes = Array.from({ length: CHANNELS }, () => new Float32Array(this.encoder.frameSize));
  }

  get running(): boolean {
    return this.status === 'running';
  }

  /** The next PCM written starts this song, `delay` samples in. */
  markSongStart(info: TrackInfo, delay = 0): void {
    this.marks.push({ sample: this.fedSamples + delay, info });
  }

  write(pcm: Buffer): void {
    if (!this.running) return;
    const frames = pcm.length / BYTES_PER_PCM_FRAME;
    this.fedSamples += frames;
    try {
      const aligned = pcm.byteOffset % 2 === 0 ? pcm : Buffer.from(pcm);
      const s = new Int16Array(aligned.buffer, aligned.byteOffset, frames * CHANNELS);
      const size = this.encoder.frameSize;
      for (let i = 0; i < frames; i++) {
        for (let c = 0; c < CHANNELS; c++) this.planes[c]![this.filled] = s[i * CHANNELS + c]! / 32768;
        if (++this.filled === size) this.encodeFilled();
      }
    } catch (err) {
      this.fail(err);
    }
  }

  private encodeFilled(): void {
    const n = this.filled;
    this.filled = 0;
    this.emit(this.encoder.encode(this.planes.map((p) => (n === p.length ? p : p.subarray(0, n)))));
  }

  private emit(packets: Buffer[]): void {
    const size = this.encoder.frameSize;
    for (const packet of packets) {
      this.samplesOut += size;
      let marker: TrackInfo | undefined;
      // The frame that carries the song's first sample (the priming comes first).
      while (this.marks.length > 0 && this.marks[0]!.sample + this.encoder.delay < this.samplesOut) marker = this.marks.shift()!.info;
      this.opts.onFrame({ data: Buffer.concat([adtsHeader(AAC_LC, SAMPLE_RATE, CHANNELS, packet.length), packet]), samples: size, marker });
    }
  }

  private fail(err: unknown): void {
    if (!this.running) return;
    this.status = 'failed';
    this.encoder.close();
    this.opts.onFailed(new EncoderError('aac', err instanceof Error ? err.message : String(err)));
  }

  /** Encode what is left, then what the encoder holds. */
  close(): Promise<void> {
    if (this.running) {
      try {
        if (this.filled > 0) this.encodeFilled();
        this.emit(this.encoder.flush());
      } catch {
        // Closing anyway.
      }
      this.status = 'closed';
      this.encoder.close();
    }
    return Promise.resolve();
  }

  destroy(): void {
    if (this.status === 'running') this.status = 'closed';
    this.encoder.close();
  }
}
