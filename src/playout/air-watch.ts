import type { Logger } from 'pino';
import type { DeadAirWatch } from './dead-air.js';
import type { LiveShows } from './live-shows.js';
import type { OnAir } from './on-air.js';
import type { Crossfade } from './operators/crossfade.js';
import type { LiveSwitch } from './sources/live.js';

/** The mix empty this long (the last song's tail has reached listeners, ~1 s): now-playing is cleared. */
export const IDLE_AFTER_MS = 3000;

export interface AirWatchOptions {
  mixer: Crossfade;
  live: LiveSwitch;
  onAir: OnAir;
  liveShows: LiveShows;
  deadAir: DeadAirWatch;
  /** Whether the channel's encoder is up (dead air is then not the encoder's doing). */
  encoderRunning: () => boolean;
  now: () => number;
  log: Logger;
  onIdle: () => void;
  onDeadAir: (change: { dead: boolean; song: string | null }) => void;
}

/**
 * What each tick checks about the air besides the audio itself: dead air
 * (nothing audible past the watch's limit, said once, and once more when
 * sound is back) and a mix left empty (now-playing cleared).
 */
export class AirWatch {
  /** Since when the mix has held no song. */
  private emptySince: number | null = null;

  constructor(private readonly o: AirWatchOptions) {}

  check(): void {
    this.deadAir();
    this.idle();
  }

  /**
   * Nothing in the mix for IDLE_AFTER_MS (no song is ready: a failed
   * preparation, descriptors or downloads short): the song last announced
   * is over, so it goes to the history and now-playing says nothing plays,
   * rather than naming a song that ended long ago. The next song announces
   * itself as usual.
   */
  private idle(): void {
    const { mixer, live, onAir } = this.o;
    if (mixer.onAir !== null || mixer.waiting || live.song !== null) {
      this.emptySince = null;
      return;
    }
    const t = this.o.now();
    this.emptySince ??= t;
    if (onAir.nowPlaying === null || t - this.emptySince < IDLE_AFTER_MS) return;
    const at = new Date().toISOString();
    const ended = onAir.clear(at)!;
    if (ended.source === 'live') this.o.liveShows.close(at);
    this.o.log.info({ song: ended.title }, 'nothing is ready to play: now-playing cleared until the next song');
    this.o.onIdle();
  }

  private deadAir(): void {
    const { deadAir, mixer, log } = this.o;
    const change = deadAir.check();
    if (!change) return;
    const song = mixer.onAir?.label ?? null;
    if (change === 'started') {
      const why = !this.o.encoderRunning() ? 'the encoder is down' : song ? 'the song on air is silent' : 'no song is ready';
      log.warn(
        { song, silentSeconds: Math.round(deadAir.silentSeconds), why },
        `dead air: nothing audible for ${Math.round(deadAir.silentSeconds)} s (${why})`,
      );
    } else {
      log.info({ song }, 'dead air over: audio is back');
    }
    this.o.onDeadAir({ dead: change === 'started', song: mixer.onAir?.info.title ?? null });
  }
}
