import { inWindowAt, localTime, wallClock, zonedEpoch } from '../../../config/week.js';
import type { WeekWindow } from '../../../config/week.js';

const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * Which schedule block is on at an instant, and when the next change is.
 * Pure. Blocks are wall-clock windows in the channel's zone (read through
 * Intl, so daylight-saving changes follow the zone's rules); where blocks
 * overlap (soft ones only, the schema says), the one listed first wins.
 * Every zone's offset is whole minutes, so a block can only begin or end
 * on a minute: answers are kept per minute.
 */
export class Schedule {
  private readonly memo = new Map<number, number>();
  /** Minutes of the day at which some block begins or ends. */
  private edges: number[] | null = null;

  constructor(
    private readonly blocks: readonly WeekWindow[],
    readonly tz: string,
  ) {}

  /** The index of the block on at `ms` (epoch), or -1 when none is (the channel's own list plays). */
  at(ms: number): number {
    if (this.blocks.length === 0) return -1;
    const minute = Math.floor(ms / 60_000);
    let i = this.memo.get(minute);
    if (i === undefined) {
      i = this.find(minute * 60_000);
      if (this.memo.size >= 8) this.memo.delete(this.memo.keys().next().value!);
      this.memo.set(minute, i);
    }
    return i;
  }

  /** The next change after `ms` (within eight days): when, and which block then plays (-1: the channel's own list). */
  next(ms: number): { at: number; index: number } | null {
    if (this.blocks.length === 0) return null;
    const now = this.at(ms);
    this.edges ??= [...new Set(this.blocks.flatMap((b) => [minutesOf(b.from), minutesOf(b.to)]))].sort((a, b) => a - b);
    const edges = this.edges;
    const today = wallClock(new Date(ms), this.tz);
    for (let d = 0; d <= 8; d++) {
      const times = edges.map((m) => zonedEpoch(this.tz, today.year, today.month, today.day + d, m)).sort((a, b) => a - b);
      for (const t of times) {
        if (t <= ms) continue;
        const i = this.find(t);
        if (i !== now) return { at: t, index: i };
      }
    }
    return null;
  }

  /** The zone is read once per instant (an Intl call), then every block is checked in plain arithmetic. */
  private find(ms: number): number {
    const local = localTime(new Date(ms), this.tz);
    return this.blocks.findIndex((b) => inWindowAt(b, local));
  }
}
