import type { Logger } from 'pino';
import { BYTES_PER_PCM_FRAME, SAMPLE_RATE, isAudible } from '../audio/pcm.js';
import { GainLimiter } from '../audio/limiter.js';
import type { DeadAirWatch } from './dead-air.js';
import type { EncodeStage } from './encode-stage.js';
import { FEED_HIGH, FeedLevels, SEAM_WAIT_QUEUE, type MixState } from './feed-levels.js';
import type { OnAir } from './on-air.js';
import type { Crossfade } from './operators/crossfade.js';

export interface MixFeedOptions {
  /** The top of the channel's graph: what plays, normalized and crossfaded. */
  mixer: Crossfade;
  encoders: EncodeStage;
  /** Samples of the stream the clock has released so far: what the encoders hold beyond it is queued. */
  released: () => number;
  onAir: OnAir;
  deadAir: DeadAirWatch;
  /** The limiter's ceiling, linear. */
  ceiling: number;
  log: Logger;
}

/**
 * The channel's feed: the mix, limited under the ceiling, into the
 * encoders, keeping their PCM queue between the levels the mix's state
 * asks for (see FeedLevels). Where the mix has too little, silence goes
 * through the limiter instead, so the stream never starves and the
 * limiter's delay line stays continuous. A song's title is marked where
 * its first sample reaches the encoders, the limiter's delay included.
 */
export class MixFeed {
  /** Seconds of silence fed because no song was ready. */
  silenceSeconds = 0;
  /** Peaks held under the ceiling, after the mix (see GainLimiter). */
  private readonly level: GainLimiter;
  private readonly levels = new FeedLevels();
  /** Reused mix buffer: a tick allocates nothing for mixing. */
  private readonly scratch = new Float32Array((FEED_HIGH / BYTES_PER_PCM_FRAME) * 2);

  constructor(private readonly o: MixFeedOptions) {
    this.level = new GainLimiter({ ceiling: o.ceiling });
  }

  /** Frames the limiter holds back: a title marked now reaches the stream this much later. */
  get latencyFrames(): number {
    return this.level.latencyFrames;
  }

  setCeiling(ceiling: number): void {
    this.level.setCeiling(ceiling);
  }

  /** Top the encoders' queue up to its high level from the mix, then pad to its floor with silence. `state` is read before each. */
  feed(state: () => MixState): void {
    const { mixer, encoders, onAir, log } = this.o;
    const now = state();
    const liveish = now.live || now.djComing;
    // With a DJ coming or on, little is queued (FEED_LIVE): no frames may wait for a switch to stored ones.
    encoders.main.holdBack(!liveish);
    // Frames still held for a join then (the stored ones being left) do not count as queued: the join needs PCM past them.
    const held = liveish ? encoders.main.heldSamples : 0;
    let ahead = (encoders.main.fedSamples - this.o.released() - held) * BYTES_PER_PCM_FRAME;
    const high = this.levels.high(now);
    if (ahead < high) {
      const want = (high - ahead) / BYTES_PER_PCM_FRAME;
      const out = this.scratch.subarray(0, want * 2);
      out.fill(0);
      // Where this PCM will sit in the encoders' stream, the limiter's delay included: songs start on its frame grid.
      // A tick's worth beyond the floor: the mix may hold a seam whose audio is late for one tick, not run the encoder dry.
      const mayWait = !liveish && ahead >= SEAM_WAIT_QUEUE;
      const { frames, marks, starts } = mixer.read(out, want, encoders.main.fedSamples + this.level.latencyFrames, mayWait);
      if (frames > 0) {
        for (const start of starts) encoders.main.songStart(start.song.info, this.level.latencyFrames + start.frame, start.song.gainDb);
        for (const mark of marks) {
          // The limiter delays the stream, so does the title.
          encoders.markSongStart(mark.song.info, this.level.latencyFrames + mark.frame);
          onAir.mark(mark.song.info);
          log.debug({ song: mark.song.label, gainDb: Math.round(mark.song.gainDb * 10) / 10 }, 'title goes up');
        }
        const pcm = this.level.process(out.subarray(0, frames * 2));
        encoders.write(pcm);
        if (encoders.main.running && isAudible(pcm)) this.o.deadAir.heard();
        ahead += pcm.length;
      }
    }
    // Read again: the mix may have changed while read (a song joined, one ended).
    const floor = this.levels.floor(state());
    if (ahead < floor) {
      const pad = (floor - ahead) / BYTES_PER_PCM_FRAME;
      if (mixer.onAir)
        log.debug(
          { song: mixer.onAir.label, aheadMs: Math.round((ahead / BYTES_PER_PCM_FRAME / SAMPLE_RATE) * 1000) },
          'decoder underrun; padding with silence',
        );
      // Through the limiter too: its delay line stays continuous. The scratch buffer holds FEED_HIGH, more than any pad.
      encoders.write(this.level.process(this.scratch.subarray(0, pad * 2).fill(0)));
      this.silenceSeconds += pad / SAMPLE_RATE;
    }
  }
}
