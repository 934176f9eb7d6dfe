import type { Logger } from 'pino';
import { BYTES_PER_PCM_FRAME, SAMPLE_RATE } from '../../audio/pcm.js';
import type { Mark, Song, SongEnd, SongSource } from '../sources/source.js';
import { learnEnd, mixVoice, newVoice, noteProgress, stopOf, type Voice } from './voice.js';

/** A skip fades the song out over this long (and the next in), rather than cutting. */
export const SKIP_FADE_SECONDS = 0.5;
/** A song that gives no audio for this long while the air needs it is given up (the watchdog). */
export const STALL_MS = 5000;
/**
 * A song on air is read this far ahead (beyond its fade), so its exact end
 * is known before the next must join, and the next's decoder is started
 * then: ~1 s covers a decoder start (~60 ms) many times over.
 */
const READ_AHEAD_SECONDS = 1;
/**
 * How long, at most, one seam may hold the mix while the audio it needs is
 * late (the end of the song on air, the next song's first audio), when the
 * reader says there is queue enough to wait (read's `mayWait`).
 */
export const SEAM_WAIT_MS = 300;
/** With its end not known yet, the song on air is held this far before where its fade is estimated to begin. */
const ESTIMATE_SLACK_SECONDS = 0.1;
/** A crossfade shorter than asked by more than this is logged (the grid moves one by under 13 ms). */
const SHORTENED_BY = 0.05;

export interface CrossfadeOptions {
  /** Seconds consecutive songs overlap (0: gapless, back to back). Read at each seam: an edit applies to the next. */
  seconds: () => number;
  log: Logger;
  now: () => number;
  /** Default STALL_MS. */
  stallMs?: number;
  /**
   * Songs start on multiples of this many samples of the stream wherever
   * that costs nothing audible: a crossfade moved by under half a frame, or
   * up to a frame more of silence where nothing led. Gapless seams stay
   * exact. The channel's MP3 encoder then finds a song's stored frames on
   * the same grid as its own (encode/splicing-encoding.ts).
   */
  grid?: number | undefined;
}

/** Whether a song cut by a skip goes back to its source, to play next. */
export type GiveBack = (song: Song, state: { unmarked: boolean; joining: boolean }) => boolean;

const frames = (seconds: number): number => Math.round(seconds * SAMPLE_RATE);

/**
 * Songs from a source turned into one stream of PCM: each follows the one
 * before, overlapping it by the crossfade (equal-power curves), or back to
 * back with none. The overlap begins where the outgoing song's audible end
 * is (its cue-out), is at most half of either song (a short song still plays
 * whole), and the incoming song's title goes up at its middle, where it
 * becomes the louder one. Each song carries its own gain and fades.
 *
 * Pure apart from its clock and logger: songs' feeds in, float PCM out.
 */
export class Crossfade {
  private voices: Voice[] = [];
  /** The next song, taken from the source but with no audio yet. */
  private pending: { song: Song; since: number } | null = null;
  /** Fade for the next song to start (after a skip). */
  private joinFade = 0;
  private readonly stallMs: number;
  /** The stream sample of the current read's first frame, when told. */
  private readAt: number | null = null;
  /** Where songs started in the current read (its first frames, not their titles), when told where it reads. */
  private starts: Mark[] = [];

  constructor(
    private readonly source: SongSource,
    private readonly opts: CrossfadeOptions,
  ) {
    this.stallMs = opts.stallMs ?? STALL_MS;
  }

  /**
   * Let the sources beneath get their next songs ready. The channel calls
   * this, not the bottom source: control travels down the graph like audio
   * comes up it, so each operator does its part (the live switch warms up
   * the playlist's next song while a show is on).
   */
  prepare(): void {
    this.source.prepare();
  }

  /** The song leading the mix (the one whose title is up, or about to be). */
  get onAir(): Song | null {
    return (this.voices.find((v) => v.leading) ?? this.voices.at(-1))?.song ?? null;
  }

  /** A song has been taken and waits for its first audio (a decoder starting): it joins the moment it has some. */
  get waiting(): boolean {
    return this.pending !== null;
  }

  /** Whether a song leads the mix (false while nothing plays, or a skipped song fades with no next yet). */
  get leading(): boolean {
    return this.voices.some((v) => v.leading);
  }

  /** Songs in the mix now (two during a crossfade). */
  get playing(): readonly Song[] {
    return this.voices.map((v) => v.song);
  }

  /**
   * Mix up to `count` frames into `out` (interleaved L/R, zeroed by the
   * caller). Returns the frames given, fewer when the songs have no more
   * audio ready now (or none is on), and where titles go up. `at`: the
   * stream sample `out[0]` will be, for songs to start on the grid.
   * `mayWait`: the reader has queue enough for the mix to give less now
   * rather than play past a seam whose audio is late (up to SEAM_WAIT_MS).
   */
  read(out: Float32Array, count: number, at?: number, mayWait = false): { frames: number; marks: Mark[]; starts: Mark[] } {
    const marks: Mark[] = [];
    let done = 0;
    this.readAt = at ?? null;
    this.starts = [];
    // Bounded: each round mixes audio, or retires or starts a song.
    for (let round = 0; done < count && round < 64; round++) {
      let lead = this.voices.find((v) => v.leading);
      let hold = Infinity;
      if (!lead) {
        const next = this.nextSong();
        const at = this.readAt === null ? null : this.readAt + done;
        const off = next && at !== null && this.opts.grid ? (this.opts.grid - (at % this.opts.grid)) % this.opts.grid : 0;
        if (next && off > 0) {
          hold = off;
          // Up to a frame more of what is on (silence, or a skipped song fading), for the next to start on the grid.
          this.pending = { song: next, since: this.opts.now() };
        } else if (next) {
          // After a skip the listener asked for the next song: its title goes up as it starts to fade in.
          lead = this.start(next, this.joinFade, 0, at);
          this.joinFade = 0;
        } else if (this.voices.length === 0) break; // nothing on: the channel fills in silence
      }
      let n = Math.min(count - done, hold);
      // Songs skipped still play out their fade while the next is not ready.
      const join = lead ? this.plan(lead, n, mayWait) : null;
      if (lead && join !== null) n = Math.min(n, join - lead.pos);
      for (const v of this.voices) {
        // Whole frames only: a decoder's pipe hands out chunks of any byte length.
        const avail = Math.floor(v.song.feed.lookahead(n * BYTES_PER_PCM_FRAME) / BYTES_PER_PCM_FRAME);
        noteProgress(v, v.pos + avail, this.opts.now());
        n = Math.min(n, avail);
        const stop = stopOf(v);
        if (stop !== null) n = Math.min(n, stop - v.pos);
      }
      if (n <= 0) {
        if (this.retire()) continue;
        this.watchStalls();
        if (this.retire()) continue;
        break;
      }
      for (const v of this.voices) mixVoice(v, out, done, n, marks);
      done += n;
    }
    return { frames: done, marks, starts: this.starts };
  }

  /**
   * End the songs on air with a quick fade (`fadeSeconds`); the next song
   * fades in meanwhile. Returns the song skipped.
   *
   * A song cut before it was the song on air is given back to the source,
   * to play next from its start: one whose title had not gone up (the
   * incoming song in the first half of a crossfade) and, on an interruption,
   * one still fading in, or taken but with no audio yet.
   * @param opts.interrupt not a listener's skip but the air taken for
   * something else (a DJ, a block's hard start): what comes next must be
   * what the source hands out now, not what it handed out before.
   * @param opts.giveBack decides instead, from whether the song's title is
   * still to go up here (`unmarked`) and whether it is still fading in
   * (`joining`): the channel knows what its listeners have seen, which is
   * behind the mix by what is queued.
   */
  skip(fadeSeconds = SKIP_FADE_SECONDS, opts: { interrupt?: boolean; giveBack?: GiveBack } = {}): Song | null {
    const giveBack: GiveBack = opts.giveBack ?? ((_song, { unmarked, joining }) => unmarked || (opts.interrupt === true && joining));
    if (opts.interrupt && this.pending) {
      this.source.giveBack(this.pending.song);
      this.source.finished(this.pending.song, { how: 'stopped' });
      this.pending = null;
    }
    const lead = this.voices.find((v) => v.leading);
    if (!lead) return null;
    const fade = Math.max(1, frames(fadeSeconds));
    for (const v of this.voices) {
      v.leading = false;
      const unheard = giveBack(v.song, { unmarked: v.markAt !== null, joining: v.pos < v.env.fadeInFrames });
      // A song skipped before its title went up (one fading in, in the first half of a crossfade) never announces itself:
      // its title would go up over what replaced it (a DJ's show, seen as ended the moment it began).
      v.markAt = null;
      if (v.stopped) continue;
      v.stopped = true;
      if (unheard) this.source.giveBack(v.song);
      const left = v.end === null ? fade : Math.min(fade, v.end - v.pos);
      // One already fading out (mid-crossfade) keeps its curve if it ends sooner.
      if (v.env.fadeOutStart === null || v.env.fadeOutStart + v.env.fadeOutFrames > v.pos + left) {
        v.env.fadeOutStart = v.pos;
        v.env.fadeOutFrames = left;
      }
    }
    this.joinFade = fade;
    return lead.song;
  }

  /** Take every song off the air at once (the channel closes). */
  stop(): void {
    for (const v of this.voices) this.source.finished(v.song, { how: 'stopped' });
    this.voices = [];
    if (this.pending) this.source.finished(this.pending.song, { how: 'stopped' });
    this.pending = null;
  }

  /**
   * Learn where the leading song ends (reading ahead), give it its own
   * fade-out, warm the next song up, and bring the next in when its time
   * comes. Returns the frame (of the leading song) the next joins at, if
   * that is still ahead.
   */
  private plan(lead: Voice, want: number, mayWait: boolean): number | null {
    const song = lead.song;
    const crossfade = frames(this.opts.seconds());
    // Playing on past a seam whose audio is late shortens the crossfade; a little queue spent instead keeps it whole.
    const wait = (): boolean => {
      if (!mayWait || crossfade === 0) return false;
      lead.waitedFrom ??= this.opts.now();
      return this.opts.now() - lead.waitedFrom < SEAM_WAIT_MS;
    };
    const ownFadeOut = song.track.fadeOut !== undefined ? frames(song.track.fadeOut) : 0;
    song.feed.lookahead((want + Math.max(crossfade, ownFadeOut) + frames(READ_AHEAD_SECONDS)) * BYTES_PER_PCM_FRAME);
    learnEnd(lead);
    const estimate = song.seconds !== null ? frames(song.seconds) - lead.pos : Infinity;
    if (lead.end !== null || estimate < crossfade + frames(READ_AHEAD_SECONDS)) this.source.warmUp();
    if (lead.end === null) {
      if (song.seconds === null || song.feed.complete) return null;
      const total = frames(song.seconds);
      const fadeFrom = total - Math.min(crossfade, Math.floor(total / 2)) - frames(ESTIMATE_SLACK_SECONDS);
      return lead.pos + want > fadeFrom && wait() ? Math.max(lead.pos, fadeFrom) : null;
    }
    const end = lead.end;
    if (song.track.fadeOut !== undefined && lead.env.fadeOutStart === null) {
      lead.env.fadeOutStart = Math.max(lead.pos, end - ownFadeOut);
      lead.env.fadeOutFrames = end - lead.env.fadeOutStart;
    }
    // The overlap: the crossfade, at most half of this song.
    const overlap = Math.min(crossfade, Math.floor(end / 2));
    const first = this.onGrid(lead, end - overlap, end);
    if (lead.pos < first) return first;
    const next = this.nextSong();
    // None ready: this one plays to its end, the next joins as soon as it can (waited for a little if its decoder is starting).
    if (!next) return this.pending && wait() ? lead.pos : null;
    const nextHalf = next.seconds !== null ? Math.floor(frames(next.seconds) / 2) : Infinity;
    const joinAt = this.onGrid(lead, end - Math.min(overlap, nextHalf, end - lead.pos), end);
    if (lead.pos < joinAt) {
      this.pending = { song: next, since: this.opts.now() };
      return joinAt;
    }
    const asked = Math.min(overlap, nextHalf);
    if (end - lead.pos < asked - frames(SHORTENED_BY)) {
      // Audible (a shorter fade), and a sign of a machine too slow for its channels.
      this.opts.log.warn(
        { song: song.label, next: next.label, wantMs: Math.round((asked / SAMPLE_RATE) * 1000), gotMs: Math.round(((end - lead.pos) / SAMPLE_RATE) * 1000) },
        (lead.endKnownAt ?? 0) > end - asked
          ? 'crossfade shortened: the song on air was decoded too late to know its end'
          : 'crossfade shortened: the next song had no audio in time',
      );
    }
    this.handOver(lead, next, end - lead.pos);
    return null;
  }

  /**
   * `frame` of the lead moved to the nearest grid point between where the
   * lead is and its end, when it starts an overlap (a crossfade of 3 s
   * becomes one of 2.987-3.013 s); else as it is.
   */
  private onGrid(lead: Voice, frame: number, end: number): number {
    const grid = this.opts.grid;
    if (!grid || lead.at === null || frame >= end) return frame;
    const r = (lead.at + frame) % grid;
    if (r === 0) return frame;
    const down = frame - r;
    const up = frame + grid - r;
    const [near, far] = r <= grid / 2 ? [down, up] : [up, down];
    for (const c of [near, far]) if (c >= lead.pos && c < end) return c;
    return frame;
  }

  /** `next` joins now, overlapping the rest of `lead` (`overlap` frames). */
  private handOver(lead: Voice, next: Song, overlap: number): void {
    lead.leading = false;
    if (overlap > 0 && lead.env.fadeOutStart === null) {
      lead.env.fadeOutStart = lead.pos;
      lead.env.fadeOutFrames = overlap;
    }
    this.start(next, overlap, Math.floor(overlap / 2), lead.at === null ? null : lead.at + lead.pos);
  }

  private start(song: Song, fadeIn: number, markAt: number, at: number | null): Voice {
    const voice = newVoice(song, { fadeIn, markAt, at, now: this.opts.now() });
    this.voices.push(voice);
    if (at !== null && this.readAt !== null) this.starts.push({ frame: at - this.readAt, song });
    return voice;
  }

  /**
   * The next song with audio ready, or null. One that turns out to have no
   * audio at all fails and the one after is tried; one that gives nothing
   * for the stall time is given up.
   */
  private nextSong(): Song | null {
    for (let tries = 0; tries < 16; tries++) {
      if (!this.pending) {
        const song = this.source.take();
        if (!song) return null;
        this.pending = { song, since: this.opts.now() };
      }
      const { song, since } = this.pending;
      if (song.feed.lookahead(BYTES_PER_PCM_FRAME) >= BYTES_PER_PCM_FRAME) {
        this.pending = null;
        return song;
      }
      if (!song.feed.complete && this.opts.now() - since > this.stallMs) song.feed.abandon(`gave no audio for ${this.stallMs / 1000} s; killed`);
      if (!song.feed.complete) return null;
      this.pending = null;
      this.source.finished(song, { how: 'failed', error: song.feed.error ?? new Error('decoder produced no audio') });
    }
    return null;
  }

  /** Take songs that have played out (or faded out after a skip) off the air. Returns whether any left. */
  private retire(): boolean {
    const left: Voice[] = [];
    for (const v of this.voices) {
      learnEnd(v);
      const stop = stopOf(v);
      const over = (v.end !== null && v.pos >= v.end) || (stop !== null && v.pos >= stop);
      if (over) left.push(v);
    }
    if (left.length === 0) return false;
    this.voices = this.voices.filter((v) => !left.includes(v));
    for (const v of left) this.source.finished(v.song, this.endOf(v));
    return true;
  }

  private endOf(v: Voice): SongEnd {
    const error = v.song.feed.error;
    if (v.pos === 0) return { how: 'failed', error: error ?? new Error('decoder produced no audio') };
    if (error) this.opts.log.warn({ song: v.song.label, err: error.message }, 'decoder failed mid-song; next song follows');
    const early = v.end === null || v.pos < v.end;
    return v.stopped && early ? { how: 'stopped' } : { how: 'ended' };
  }

  /** A song that gives nothing while the air needs it: hung, or fed a file built to make it spin. What it gave plays; it goes. */
  private watchStalls(): void {
    const t = this.opts.now();
    for (const v of this.voices) {
      const limit = v.song.stallMs ?? this.stallMs;
      if (!v.song.feed.complete && t - v.lastDeliveryAt > limit) v.song.feed.abandon(`made no progress for ${limit / 1000} s; killed`);
    }
  }
}
