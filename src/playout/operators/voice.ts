/**
 * One song in the crossfade's mix (operators/crossfade.ts): where it is,
 * its gain and fades, where it ends, and mixing it into a block. Pure.
 */
import { addInto, type Envelope } from '../../audio/mix.js';
import { dbToLinear } from '../../audio/loudness.js';
import { BYTES_PER_PCM_FRAME, SAMPLE_RATE } from '../../audio/pcm.js';
import type { Mark, Song } from '../sources/source.js';

/** One song in the mix. */
export interface Voice {
  song: Song;
  /** Frames of it mixed so far. */
  pos: number;
  gain: number;
  env: Envelope;
  /** Its last frame + 1, once its feed is complete. */
  end: number | null;
  /** Where it was (pos) when its end became known. */
  endKnownAt: number | null;
  /** When (clock) the mix first held at its seam for late audio. */
  waitedFrom: number | null;
  /** The stream sample its frame 0 is at, when the reader says where it reads (read's `at`). */
  at: number | null;
  /** Frame at which its title goes up; null once it has. */
  markAt: number | null;
  /** It leads: the next song joins at its end. False once it has handed over or was skipped. */
  leading: boolean;
  /** Skipped: it leaves the air at the end of its fade-out. */
  stopped: boolean;
  /** Frames its feed has delivered so far (mixed or read ahead), and when that last grew. */
  delivered: number;
  lastDeliveryAt: number;
}

/** A song joining the mix: fading in over `fadeIn` frames (its own fade-in wins), its title at `markAt`, at stream sample `at`. */
export function newVoice(song: Song, o: { fadeIn: number; markAt: number; at: number | null; now: number }): Voice {
  return {
    song,
    at: o.at,
    pos: 0,
    gain: dbToLinear(song.gainDb),
    env: { fadeInFrames: song.track.fadeIn !== undefined ? Math.round(song.track.fadeIn * SAMPLE_RATE) : o.fadeIn, fadeOutStart: null, fadeOutFrames: 0 },
    end: null,
    endKnownAt: null,
    waitedFrom: null,
    markAt: Math.round(o.markAt),
    leading: true,
    stopped: false,
    delivered: 0,
    lastDeliveryAt: o.now,
  };
}

/** Add `n` frames of the voice into `out` from frame `at`, with its gain and envelope; its title's mark when it is reached. */
export function mixVoice(v: Voice, out: Float32Array, at: number, n: number, marks: Mark[]): void {
  const bytes = n * BYTES_PER_PCM_FRAME;
  let pcm = v.song.feed.take(bytes);
  // lookahead() promised these bytes; a shortfall would shift this song against the other.
  if (!pcm || pcm.length < bytes) pcm = Buffer.concat([pcm ?? Buffer.alloc(0), Buffer.alloc(bytes - (pcm?.length ?? 0))]);
  if (v.song.gainNowDb) v.gain = dbToLinear(v.song.gainNowDb());
  addInto(out, at, pcm, v.gain, v.env, v.pos);
  if (v.markAt !== null && v.markAt < v.pos + n) {
    marks.push({ frame: at + Math.max(0, v.markAt - v.pos), song: v.song });
    v.markAt = null;
  }
  v.pos += n;
}

/** The watchdog counts from a feed's last delivery, not from the last audio mixed: what it read ahead does not hide a hang. */
export function noteProgress(v: Voice, delivered: number, now: number): void {
  if (delivered <= v.delivered) return;
  v.delivered = delivered;
  v.lastDeliveryAt = now;
}

/** Its end, once its feed is complete. */
export function learnEnd(v: Voice): void {
  // A last partial frame is padded by the decoder (take), so it counts as a whole one.
  if (v.end === null && v.song.feed.complete) {
    v.end = v.pos + Math.ceil(v.song.feed.lookahead(Infinity) / BYTES_PER_PCM_FRAME);
    v.endKnownAt = v.pos;
  }
}

/** Where a voice leaves the air early: the end of its fade-out after a skip. */
export function stopOf(v: Voice): number | null {
  return v.stopped && v.env.fadeOutStart !== null ? v.env.fadeOutStart + v.env.fadeOutFrames : null;
}
