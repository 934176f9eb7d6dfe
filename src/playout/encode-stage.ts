import type { Logger } from 'pino';
import type { Timers } from '../kernel/lifecycle.js';
import { EncoderKeeper, type EncoderKeeperOptions, type StartEncoding } from './encoder-keeper.js';
import type { TrackInfo } from './now-playing.js';
import { Rendition, type RenditionSpec } from './rendition.js';

export interface EncodeStageOptions {
  channelId: string;
  /** The channel's own stream: its encoder's runs and where their frames go (the channel's pacer). */
  main: Pick<EncoderKeeperOptions, 'start' | 'sent' | 'onFrame' | 'onFailed' | 'onRestarted'>;
  renditions: readonly RenditionSpec[];
  /** Starts one run of a rendition's encoder; needed when there are renditions. */
  startRendition?: ((spec: RenditionSpec) => StartEncoding) | undefined;
  leadMs: number;
  /** How much audio an encoder process may hold back before writing: the shortest tick. */
  outputBlockMs: number;
  log: Logger;
  now: () => number;
  timers: Timers;
}

/**
 * Every encoder of a channel fed from its one mix: the channel's own
 * (frames to the channel's pacer) and each rendition's (each with its own
 * pacer, ticked with the channel). They get the same PCM and the same song
 * marks, so each format changes title on the same sample; one failing is
 * restarted alone.
 */
export class EncodeStage {
  readonly main: EncoderKeeper;
  readonly renditions: readonly Rendition[];

  constructor(opts: EncodeStageOptions) {
    this.main = new EncoderKeeper({ ...opts.main, outputBlockMs: opts.outputBlockMs, log: opts.log, now: opts.now, timers: opts.timers });
    this.renditions = opts.renditions.map(
      (spec) =>
        new Rendition({
          channelId: opts.channelId,
          spec,
          start: opts.startRendition!(spec),
          leadMs: opts.leadMs,
          outputBlockMs: opts.outputBlockMs,
          log: opts.log,
          now: opts.now,
          timers: opts.timers,
        }),
    );
  }

  start(): void {
    this.main.start();
    for (const r of this.renditions) r.start();
  }

  /** The renditions' clocks (the channel's own pacer is the channel's). */
  tick(): void {
    for (const r of this.renditions) r.tick();
  }

  /** The mix's PCM, to every encoder. */
  write(pcm: Buffer): void {
    this.main.write(pcm);
    for (const r of this.renditions) r.write(pcm);
  }

  /** A song starts `delay` samples into the next PCM, in every format. */
  markSongStart(info: TrackInfo, delay: number): void {
    this.main.markSongStart(info, delay);
    for (const r of this.renditions) r.markSongStart(info, delay);
  }

  /** Drain: every encoder encodes what it was given. */
  async close(): Promise<void> {
    await Promise.all([this.main.close(), ...this.renditions.map((r) => r.close())]);
  }

  destroy(): void {
    this.main.destroy();
    for (const r of this.renditions) r.destroy();
  }
}
