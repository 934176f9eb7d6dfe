/**
 * A Clock for tests: time stands still until `advance()` moves it, firing
 * every timer that falls due on the way, in time order (intervals as often
 * as their period fits). Timeouts, backoffs and heartbeats are then tested
 * without waiting for them.
 */
import type { Clock } from '../../src/kernel/lifecycle.js';

interface Timer {
  at: number;
  seq: number;
  period: number | null;
  fn: () => void;
  live: boolean;
}

export class FakeClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers: Timer[] = [];

  constructor(private readonly epochMs = Date.UTC(2026, 11, 7, 12, 0, 0)) {}

  now(): number {
    return this.t;
  }

  date(): Date {
    return new Date(this.epochMs + this.t);
  }

  after(ms: number, fn: () => void): () => void {
    return this.add(ms, null, fn);
  }

  every(ms: number, fn: () => void): () => void {
    return this.add(ms, Math.max(1, ms), fn);
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.timers.filter((x) => x.live).length;
  }

  /** Move time forward by `ms`, firing what falls due, each at its own instant. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const next = this.timers.filter((x) => x.live && x.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.t = next.at;
      if (next.period === null) next.live = false;
      else next.at += next.period;
      next.fn();
    }
    this.t = end;
    this.timers = this.timers.filter((x) => x.live);
  }

  private add(ms: number, period: number | null, fn: () => void): () => void {
    const timer: Timer = { at: this.t + Math.max(0, ms), seq: this.seq++, period, fn, live: true };
    this.timers.push(timer);
    return () => {
      timer.live = false;
    };
  }
}
