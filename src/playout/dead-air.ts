/**
 * Dead air that looks healthy: the stream is up, frames flow at full rate,
 * every listener stays connected, and nobody hears anything, because every
 * song failed, a song is itself silence, or the encoder cannot be brought
 * back. The watch is told when audible audio went to the encoder; past
 * `limitMs` without any it says so once, and once more when sound is back.
 */
export class DeadAirWatch {
  private lastHeard: number;
  private dead = false;

  constructor(
    private readonly limitMs: number,
    private readonly now: () => number,
  ) {
    this.lastHeard = now();
  }

  /** Audible audio just went out. */
  heard(): void {
    this.lastHeard = this.now();
  }

  /** Seconds since audible audio last went out. */
  get silentSeconds(): number {
    return (this.now() - this.lastHeard) / 1000;
  }

  /** Whether the channel is in dead air now. */
  get isDead(): boolean {
    return this.dead;
  }

  /** Called each tick: `started` when dead air begins, `ended` when sound is back, else null. */
  check(): 'started' | 'ended' | null {
    const silent = this.now() - this.lastHeard > this.limitMs;
    if (silent === this.dead) return null;
    this.dead = silent;
    return silent ? 'started' : 'ended';
  }
}
