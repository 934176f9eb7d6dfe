/**
 * The budget of DJ password checks. A check is scrypt: ~50 ms of CPU and
 * 16 MiB, on node's small thread pool that file reads share. Whatever
 * arrives, from one address or from thousands, checks never take more than
 * `perSecond` a second (a quarter of one core by default) and never queue
 * up more than `queued`; past that a sign-in is refused at once (503), and
 * that refusal is load, not a wrong password: it never counts as a failed
 * sign-in.
 *
 * The budget is taken synchronously, when a request arrives: a burst that
 * arrives in one tick cannot all pass the "is the queue full" test before
 * any of them has joined it.
 *
 * Addresses that were fully admitted before (a DJ who went on air) have a
 * lane of their own, with its own rate and queue, served first: a flood of
 * strangers cannot keep a known DJ's reconnect waiting behind it. When
 * their lane is spent they may still use the common one. Pure apart from
 * its clock.
 */
export interface CheckBudget {
  /** Checks running at once (scrypt runs on the thread pool). */
  atOnce: number;
  /** Per lane: checks allowed a second, sustained, and in a burst, and how many may wait. */
  lanes: Record<Lane, { perSecond: number; burst: number; queued: number }>;
  /** Checks waiting or running for one address at most. */
  perAddress: number;
}

export type Lane = 'known' | 'other';

export const CHECK_BUDGET: CheckBudget = {
  atOnce: 1,
  lanes: { known: { perSecond: 2, burst: 6, queued: 4 }, other: { perSecond: 5, burst: 10, queued: 8 } },
  perAddress: 2,
};

/** A reserved check: run it once, or release it unused. */
export interface Ticket {
  run<T>(fn: () => Promise<T>): Promise<T>;
  release(): void;
}

export type Refusal = 'address-busy' | 'queue-full' | 'rate';

interface LaneState {
  tokens: number;
  at: number;
  /** Reserved and not yet finished (waiting, running, or about to ask for their turn). */
  outstanding: number;
  waiting: (() => void)[];
}

export class CheckGate {
  private running = 0;
  private readonly lanes: Record<Lane, LaneState>;
  private readonly byAddress = new Map<string, number>();

  constructor(
    private readonly budget: CheckBudget = CHECK_BUDGET,
    private readonly now: () => number = () => performance.now(),
  ) {
    const t = now();
    const lane = (l: Lane): LaneState => ({ tokens: budget.lanes[l].burst, at: t, outstanding: 0, waiting: [] });
    this.lanes = { known: lane('known'), other: lane('other') };
  }

  /** Checks waiting their turn, both lanes. */
  get queued(): number {
    return this.lanes.known.waiting.length + this.lanes.other.waiting.length;
  }

  /** Reserve a check for address `key` in `lane` (a known address falls back on the common lane), now; a Refusal when over budget (answer 503). */
  reserve(key: string, lane: Lane): Ticket | Refusal {
    const got = this.reserveIn(key, lane);
    return typeof got === 'string' && lane === 'known' && got !== 'address-busy' ? this.reserveIn(key, 'other') : got;
  }

  private reserveIn(key: string, lane: Lane): Ticket | Refusal {
    const fromHere = this.byAddress.get(key) ?? 0;
    if (fromHere >= this.budget.perAddress) return 'address-busy';
    const state = this.lanes[lane];
    const limits = this.budget.lanes[lane];
    // Counted from reservation, not from joining the queue: a burst in one tick is bounded too.
    if (state.outstanding >= limits.queued + this.budget.atOnce) return 'queue-full';
    const t = this.now();
    state.tokens = Math.min(limits.burst, state.tokens + ((t - state.at) / 1000) * limits.perSecond);
    state.at = t;
    if (state.tokens < 1) return 'rate';
    state.tokens -= 1;
    this.byAddress.set(key, fromHere + 1);
    state.outstanding += 1;
    let done = false;
    const release = (): void => {
      if (done) return;
      done = true;
      state.outstanding -= 1;
      const left = (this.byAddress.get(key) ?? 1) - 1;
      if (left <= 0) this.byAddress.delete(key);
      else this.byAddress.set(key, left);
    };
    return {
      release,
      run: async <T>(fn: () => Promise<T>): Promise<T> => {
        if (done) throw new Error('a check ticket was used twice');
        try {
          if (this.running >= this.budget.atOnce) await new Promise<void>((resolve) => state.waiting.push(resolve));
          this.running += 1;
          try {
            return await fn();
          } finally {
            this.running -= 1;
            (this.lanes.known.waiting.shift() ?? this.lanes.other.waiting.shift())?.();
          }
        } finally {
          release();
        }
      },
    };
  }
}
