/**
 * Waiting on something that says when it changed (log lines arriving, audio
 * arriving), rather than polling it: a check runs at once and again at each
 * change, and the wait ends the moment it holds.
 */
export class Watch {
  private readonly waiters = new Set<() => void>();

  /** Something changed: re-run the checks waiting. */
  changed(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves with `check()`'s first value that is not undefined, looked at now and at each change. */
  when<T>(what: string, check: () => T | undefined, timeoutMs = 10_000): Promise<T> {
    const now = check();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(look);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const look = (): void => {
        let v: T | undefined;
        try {
          v = check();
        } catch (err) {
          clearTimeout(timer);
          this.waiters.delete(look);
          reject(err as Error);
          return;
        }
        if (v === undefined) return;
        clearTimeout(timer);
        this.waiters.delete(look);
        resolve(v);
      };
      this.waiters.add(look);
    });
  }
}
