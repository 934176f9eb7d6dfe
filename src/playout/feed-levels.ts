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
/** A live show's hand-back lasts this long after the show leaves the mix (its next song's decoder may be a moment late). */
const HAND_BACK_MS = 2000;

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
  /** A song is taken and waits for its decoder's first audio. */
  waiting: boolean;
}

/**
 * How much PCM a channel keeps queued in its encoder, in bytes: fill up to
 * `high` from the mix, pad with silence below `floor`. Pure but for the
 * hand-back window, which it tracks from the ticks it is asked at.
 */
export class FeedLevels {
  /** Until when a live show's hand-back is under way. */
  private liveUntil = -Infinity;

  constructor(private readonly now: () => number) {}

  /** Fill from the mix up to this. With no song leading (a skipped one fading, the next not ready), less: the next one is heard sooner. */
  high(s: MixState): number {
    return s.live || s.djComing ? FEED_LIVE : s.leading ? FEED_HIGH : FEED_LOW;
  }

  /**
   * Pad with silence below this. With a song on air, or, as a live show
   * hands back, the playlist's song taken and about to give its first audio,
   * pad only as the encoder is about to run dry: padding earlier is silence
   * heard at the seam (the show was mixed at the live edge, so the encoder
   * holds less than the idle floor).
   */
  floor(s: MixState): number {
    const now = this.now();
    if (s.live) this.liveUntil = now + HAND_BACK_MS;
    const handingBack = s.waiting && now < this.liveUntil;
    return s.onAir || handingBack ? FEED_UNDERRUN : FEED_LOW;
  }
}
