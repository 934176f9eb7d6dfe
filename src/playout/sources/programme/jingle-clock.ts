import { wallClock } from '../../../config/week.js';

export interface JingleTiming {
  every?: { songs: number } | { minutes: number } | undefined;
  topOfHour: boolean;
}

/**
 * When a station ID is due, asked at each seam: after every N songs, after
 * N minutes since the last one, or at the first seam after a full hour in
 * the channel's zone. Pure apart from the clock it is given.
 */
export class JingleClock {
  private songs = 0;
  private lastAt: number;
  private lastHour: string | null = null;
  private hourDue = false;

  constructor(
    private timing: JingleTiming | undefined,
    private tz: string,
    now: number,
  ) {
    this.lastAt = now;
  }

  set(timing: JingleTiming | undefined, tz: string): void {
    this.timing = timing;
    this.tz = tz;
  }

  /** Whether a jingle is due at a seam at `now`. */
  due(now: number): boolean {
    const t = this.timing;
    if (!t) return false;
    if (t.topOfHour) {
      const w = wallClock(new Date(now), this.tz);
      const hour = `${w.year}-${w.month}-${w.day} ${w.hour}`;
      if (this.lastHour !== null && hour !== this.lastHour) this.hourDue = true;
      this.lastHour = hour;
    }
    if (this.hourDue) return true;
    if (t.every && 'songs' in t.every) return this.songs >= t.every.songs;
    if (t.every && 'minutes' in t.every) return now - this.lastAt >= t.every.minutes * 60_000;
    return false;
  }

  /** A song (not a jingle) was handed out. */
  song(): void {
    this.songs += 1;
  }

  /** A song handed out came back unplayed (given back before it was heard): it does not count. */
  returned(): void {
    this.songs = Math.max(0, this.songs - 1);
  }

  /** A jingle was handed out at `now`: every count starts again. */
  played(now: number): void {
    this.songs = 0;
    this.lastAt = now;
    this.hourDue = false;
  }
}
