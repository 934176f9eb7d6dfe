import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { SAMPLE_RATE } from '../audio/pcm.js';
import type { Rendition as RenditionSpec } from '../config/playlist.js';
import type { Timers } from '../kernel/lifecycle.js';
import { EncoderKeeper, type StartEncoding } from './encoder-keeper.js';
import type { AudioSource, NowPlaying, TrackInfo } from './now-playing.js';
import { Pacer } from './pacer.js';

export type { RenditionSpec };

/** What a rendition's clock announces before a frame: a song, a stream's headers, or both. */
interface Mark {
  info?: TrackInfo | undefined;
  /** The frame is a new Ogg stream's headers: these bytes. */
  headers?: Buffer | undefined;
}

export interface RenditionOptions {
  channelId: string;
  spec: RenditionSpec;
  start: StartEncoding;
  leadMs: number;
  outputBlockMs: number;
  log: Logger;
  now: () => number;
  timers: Timers;
}

/**
 * One more format of a channel's stream (AAC, Opus, another MP3 bitrate):
 * its own encoder fed the same PCM as the channel's, from the same decode
 * and mix, and its own clock, ticked with the channel's. To outputs it is a
 * channel like any other (an AudioSource): `audio` at real-time pace and
 * `track` right before the frame where the song begins in this format.
 *
 * An Ogg stream (Opus) also emits `stream-start` before each new logical
 * stream's headers; `headers` holds them for listeners and servers joining
 * later, who need them before anything else.
 */
export class Rendition extends EventEmitter implements AudioSource {
  readonly id: string;
  nowPlaying: NowPlaying | null = null;
  /** The current Ogg stream's header pages (Opus); null for frame formats. */
  headers: Buffer | null = null;
  private readonly pacer: Pacer<Mark>;
  private readonly encoder: EncoderKeeper;

  constructor(readonly opts: RenditionOptions) {
    super();
    this.id = opts.channelId;
    const log = opts.log.child({ rendition: opts.spec.mount, codec: opts.spec.codec });
    this.pacer = new Pacer<Mark>({
      sampleRate: SAMPLE_RATE,
      leadMs: opts.leadMs,
      now: opts.now,
      emit: (data, startSample) => this.emit('audio', data, startSample / SAMPLE_RATE),
      onMarker: (mark) => this.announce(mark),
    });
    this.encoder = new EncoderKeeper({
      start: opts.start,
      outputBlockMs: opts.outputBlockMs,
      log,
      now: opts.now,
      timers: opts.timers,
      sent: () => this.pacer.sourceSamplesSent,
      onFrame: (frame) => {
        const mark = frame.marker !== undefined || frame.headers ? { info: frame.marker, headers: frame.headers ? frame.data : undefined } : undefined;
        this.pacer.push({ data: frame.data, samples: frame.samples, marker: mark });
      },
      onFailed: () => this.pacer.clearQueue(),
      // The new run's first frames announce the song on air (its title, or an Ogg stream's headers with it).
      onRestarted: () => {
        if (this.nowPlaying) this.encoder.markSongStart(this.nowPlaying, 0);
      },
    });
  }

  get spec(): RenditionSpec {
    return this.opts.spec;
  }

  /** Seconds the clock lost waiting for this encoder (nothing stands in for an Ogg page). */
  get waitedSeconds(): number {
    return this.pacer.standInSamples / SAMPLE_RATE;
  }

  get encoderRestarts(): number {
    return this.encoder.restarts;
  }

  start(): void {
    this.encoder.start();
    this.pacer.start();
  }

  tick(): void {
    this.pacer.tick();
  }

  write(pcm: Buffer): void {
    this.encoder.write(pcm);
  }

  markSongStart(info: TrackInfo, delay: number): void {
    this.encoder.markSongStart(info, delay);
  }

  close(): Promise<void> {
    return this.encoder.close();
  }

  destroy(): void {
    this.encoder.destroy();
  }

  private announce(mark: Mark): void {
    if (mark.headers) {
      this.headers = mark.headers;
      this.emit('stream-start');
    }
    if (mark.info) {
      this.nowPlaying = { ...mark.info, startedAt: new Date().toISOString() };
      this.emit('track', this.nowPlaying);
    }
  }
}
