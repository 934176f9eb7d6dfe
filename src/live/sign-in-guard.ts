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

export const SIGN_IN_LIMITS: SignInLimits = { maxFailures: 10, windowMs: 60_000, lockMs: 60_000, maxAddresses: 10_000 };

interface Record {
  count: number;
  since: number;
  lockedUntil: number;
}

export class SignInGuard {
  private readonly seen = new Map<string, Record>();

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

  succeeded(address: string): void {
    this.seen.delete(address);
  }
}
