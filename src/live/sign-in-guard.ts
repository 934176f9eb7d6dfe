/**
 * Failed DJ sign-ins per address: past `maxFailures` within `windowMs`, the
 * address is locked out for `lockMs` and refused before any password check,
 * so one guesser can neither burn the station's CPU on scrypt nor crowd
 * real DJs out of the sign-in queue. Pure apart from its clock.
 */
export interface SignInLimits {
  maxFailures: number;
  windowMs: number;
  lockMs: number;
  /** Addresses remembered at most (the oldest are forgotten first). */
  maxAddresses: number;
}

/** How long an address a DJ went on air from keeps its own lane for sign-ins. */
const KNOWN_FOR_MS = 30 * 24 * 3600_000;

export const SIGN_IN_LIMITS: SignInLimits = { maxFailures: 10, windowMs: 60_000, lockMs: 60_000, maxAddresses: 10_000 };

interface Record {
  count: number;
  since: number;
  lockedUntil: number;
}

export class SignInGuard {
  private readonly seen = new Map<string, Record>();
  /** Addresses a DJ was admitted from, with when: their sign-ins get the known lane (CheckGate). */
  private readonly admittedFrom = new Map<string, number>();

  constructor(
    private readonly limits: SignInLimits = SIGN_IN_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds `address` stays locked out; 0 if it may try. */
  lockedFor(address: string): number {
    const r = this.seen.get(address);
    return r ? Math.max(0, r.lockedUntil - this.now()) : 0;
  }

  /** A failed sign-in from `address`; true when this one locked it out. */
  failed(address: string): boolean {
    const t = this.now();
    let r = this.seen.get(address);
    if (!r || t - r.since > this.limits.windowMs) {
      r = { count: 0, since: t, lockedUntil: 0 };
      this.seen.delete(address);
      this.seen.set(address, r);
      if (this.seen.size > this.limits.maxAddresses) this.seen.delete(this.seen.keys().next().value!);
    }
    r.count += 1;
    if (r.count >= this.limits.maxFailures && r.lockedUntil <= t) {
      r.lockedUntil = t + this.limits.lockMs;
      r.count = 0;
      r.since = t;
      return true;
    }
    return false;
  }

  /**
   * A DJ was fully admitted to a channel from `address`: only this clears
   * its failures (a right password for an account that may not broadcast
   * there, or at this hour, does not), and the address is known for
   * `KNOWN_FOR_MS`.
   */
  admitted(address: string): void {
    this.seen.delete(address);
    this.admittedFrom.delete(address);
    this.admittedFrom.set(address, this.now());
    if (this.admittedFrom.size > this.limits.maxAddresses) this.admittedFrom.delete(this.admittedFrom.keys().next().value!);
  }

  /** Whether a DJ was admitted from `address` lately. */
  known(address: string): boolean {
    const at = this.admittedFrom.get(address);
    return at !== undefined && this.now() - at < KNOWN_FOR_MS;
  }
}
