/**
 * What breaks into the song on air: a skip, a DJ taking over (and retitling
 * the show), a schedule block's hard start. Each fades out what plays
 * through the graph's crossfade, never by a side door (issue 25), and tells
 * the on-air record why the song left. Apart from the channel's clock and
 * its read API, which share no state with these beyond what is passed in.
 */
import type { Logger } from 'pino';
import type { TrackInfo } from './now-playing.js';
import type { EncodeStage } from './encode-stage.js';
import type { LiveShows } from './live-shows.js';
import type { MixFeed } from './mix-feed.js';
import type { OnAir } from './on-air.js';
import { SKIP_FADE_SECONDS, type Crossfade } from './operators/crossfade.js';
import type { Song, SongEnd } from './sources/source.js';
import { djOf, type LiveShow, type LiveSwitch } from './sources/live.js';

/** A DJ taking over fades the song on air out (and fades in) over this long. */
export const TAKEOVER_FADE_SECONDS = 1;
/** A block with a hard start fades the song on air out over this long. */
export const HARD_START_FADE_SECONDS = 0.5;

export interface InterruptionsOptions {
  mixer: Crossfade;
  live: LiveSwitch;
  onAir: OnAir;
  liveShows: LiveShows;
  encoders: EncodeStage;
  mix: MixFeed;
  log: Logger;
  /** Whether the channel is on air (a closing channel takes no DJ and starts no block). */
  onAirNow(): boolean;
  /** Run the channel's clock once now: the change reaches the encoder without waiting out a tick. */
  tick(): void;
  /** The channel's tick period may have to change (a DJ is coming or went). */
  retime(): void;
}

export class Interruptions {
  /** DJs connected and about to go on air (their audio is buffering). */
  private djsComing = 0;

  constructor(private readonly o: InterruptionsOptions) {}

  /** A DJ is about to go on air: the channel ticks faster and queues less ahead. */
  get djComingSoon(): boolean {
    return this.djsComing > 0;
  }

  /** End the song on air with a quick fade; the next one follows. */
  skip(): void {
    const song = this.cut(SKIP_FADE_SECONDS, false);
    if (!song) return;
    this.o.onAir.leaving = 'skipped';
    this.o.log.info({ song: song.label }, 'skipped by request');
  }

  /**
   * A DJ takes over: what plays fades out over TAKEOVER_FADE_SECONDS while
   * the show fades in. The show ends when its feed does (the DJ left, or it
   * was abandoned); the playlist then follows without a gap.
   */
  goLive(show: LiveShow): boolean {
    if (!this.o.onAirNow()) return false;
    this.djComing(false);
    const before = this.o.live.song;
    this.o.live.start(show);
    if (before) this.o.liveShows.replaced();
    if (this.cut(TAKEOVER_FADE_SECONDS, true)) this.o.onAir.leaving = 'interrupted';
    this.o.log.info({ dj: show.dj, show: show.name, title: show.title }, 'live: DJ takes over');
    // Now rather than at the next tick: the show's first audio reaches the encoder up to a tick sooner.
    this.o.tick();
    return true;
  }

  /**
   * A DJ has connected and will go on air once their first audio is
   * decoded (true), or will not after all (false). Meanwhile the channel
   * queues less audio ahead in its encoder, so the DJ is heard that much
   * sooner: what is queued plays before the takeover can.
   */
  djComing(coming: boolean): void {
    this.djsComing = Math.max(0, this.djsComing + (coming ? 1 : -1));
    if (this.o.onAirNow()) this.o.retime();
  }

  /** The live show's title changed (the DJ's client sent one): shown where the change reaches the stream. Returns false if no show is on. */
  retitle(title: string): boolean {
    const song = this.o.live.song;
    if (!song) return false;
    // Shown as the DJ's client sent it ("Artist - Title" already): no artist added.
    const info: TrackInfo = { ...song.info, title, artist: undefined };
    if (this.o.live.retitle(info)) this.o.encoders.markSongStart(info, this.o.mix.latencyFrames);
    return true;
  }

  /** A block with a hard start is due: what plays fades out and the block's first song follows. A live show keeps the air. */
  hardStart(block: string): void {
    if (!this.o.onAirNow()) return;
    if (this.o.live.song) {
      this.o.log.info({ block }, 'hard block start while a DJ is live: the show keeps the air, the block follows it');
      return;
    }
    const song = this.cut(HARD_START_FADE_SECONDS, true);
    if (song) {
      this.o.onAir.leaving = 'interrupted';
      this.o.log.info({ block, song: song.label }, `block "${block}" starts now: the song on air fades out`);
    }
    this.o.tick();
  }

  /** The live show's feed ended (the DJ left, or it was abandoned). */
  liveLeft(song: Song, end: SongEnd): void {
    const why = this.o.liveShows.left(song, end, !this.o.onAirNow());
    this.o.log.info({ dj: djOf(song.info.key), why }, 'live: show leaves the air; the playlist follows');
    // Never announced (it failed before any audio): close its record now.
    if (!this.o.mixer.playing.includes(song) && this.o.onAir.nowPlaying?.source !== 'live') this.o.liveShows.close();
  }

  /**
   * Fade out what plays. A song cut before listeners saw its title (the
   * incoming one early in a crossfade: what is queued is ~0.8 s behind the
   * mix) goes back to its list to play next, its queued title dropped; on
   * an interruption (a DJ, a hard start) so does one still fading in.
   */
  private cut(fadeSeconds: number, interrupt: boolean): Song | null {
    const { onAir } = this.o;
    return this.o.mixer.skip(fadeSeconds, {
      interrupt,
      giveBack: (song, { joining }) => {
        const unseen = !onAir.seen(song.info);
        if (!unseen && !(interrupt && joining)) return false;
        if (unseen) onAir.cutUnseen(song.info);
        return true;
      },
    });
  }
}
