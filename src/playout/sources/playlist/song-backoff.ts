import type { RetryPolicy } from '../../../kernel/retry.js';

/**
 * Songs that failed, kept from being prepared again until their wait is
 * over: a dead URL is not downloaded again on every pass of the list, a
 * corrupt file not probed again every few seconds. The wait grows with each
 * failure in a row (the policy's delays) and ends when the song plays.
 */
export class SongBackoff {
  private readonly songs = new Map<string, { failures: number; until: number }>();

  constructor(
    private readonly policy: RetryPolicy,
    private readonly now: () => number,
  ) {}

  /** Note a failure; returns how many in a row and how long until the song is tried again. */
  failed(key: string, err: unknown): { failures: number; retryInMs: number } {
    const failures = (this.songs.get(key)?.failures ?? 0) + 1;
    const retryInMs = this.policy(failures, err) ?? 3_600_000;
    this.songs.set(key, { failures, until: this.now() + retryInMs });
    return { failures, retryInMs };
  }

  /** A failure that was not the song's (the station short of descriptors): it waits `ms`, and its count of failures is not raised. */
  deferred(key: string, ms: number): void {
    const failures = this.songs.get(key)?.failures ?? 0;
    this.songs.set(key, { failures, until: this.now() + ms });
  }

  /** Whether the song is still waiting out a failure. */
  waiting(key: string): boolean {
    const s = this.songs.get(key);
    return s !== undefined && this.now() < s.until;
  }

  /** It played: its slate is clean. */
  played(key: string): void {
    this.songs.delete(key);
  }
}
