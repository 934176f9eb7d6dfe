import { pcmBytesFor } from '../audio/pcm.js';

/** PCM kept queued in the encoder: enough to ride out a slow tick, little enough that skip is quick. */
export const FEED_HIGH = pcmBytesFor(0.6);
const FEED_LOW = pcmBytesFor(0.3);
/**
 * While a DJ is coming or on: what is queued plays before the takeover can,
 * and a live input cannot be read ahead anyway. Above FEED_UNDERRUN by two
 * ticks, so a DJ's uneven sending still rides on it.
 */
const FEED_LIVE = pcmBytesFor(0.25);
/**
 * Mid-song, a song with nothing to give is usually only waiting for the
 * event loop to read its decoder's pipe (after a busy moment): pad only
 * when the encoder is about to run dry, so a song is not broken up by silence.
 */
const FEED_UNDERRUN = pcmBytesFor(0.1);
/**
 * Queued at least this much, the mix may hold a seam whose audio is late
 * rather than shorten the crossfade (operators/crossfade.ts). A tick after
 * the top-up (250 ms on songs) about 0.35 s is queued: one tick's wait
 * still leaves the encoder fed until the next, which mixes on.
 */
export const SEAM_WAIT_QUEUE = pcmBytesFor(0.3);

/** What the mix is doing at a tick, as far as the feed levels care. */
export interface MixState {
  /** A DJ is on air. */
  live: boolean;
  /** A DJ is connected and about to go on air. */
  djComing: boolean;
  /** A song leads the mix (not only a skipped one fading). */
  leading: boolean;
  /** A song is on air. */
  onAir: boolean;
}

/**
 * How much PCM a channel keeps queued in its encoder, in bytes: fill up to
 * `high` from the mix, pad with silence below `floor`. Pure.
 *
 * A live show's hand-back once had a floor of its own (for 2 s after a show,
 * a song waiting for its first audio padded only as the encoder ran dry):
 * the playlist's next song was not warmed up during a show, so its decoder
 * started only as the DJ left. Since control goes through the graph the
 * live switch warms it up while the show is on; measured without the
 * window, ffmpeg's, ezstream's and Liquidsoap's hand-backs had no silence
 * in 3 of 3 runs, one with a core kept busy, so it went.
 */
export class FeedLevels {
  /** Fill from the mix up to this. With no song leading (a skipped one fading, the next not ready), less: the next one is heard sooner. */
  high(s: MixState): number {
    return s.live || s.djComing ? FEED_LIVE : s.leading ? FEED_HIGH : FEED_LOW;
  }

  /**
   * Pad with silence below this. With a song on air, pad only as the
   * encoder is about to run dry: padding earlier is silence heard mid-song.
   */
  floor(s: MixState): number {
    return s.onAir ? FEED_UNDERRUN : FEED_LOW;
  }
}
