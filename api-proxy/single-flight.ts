/**
 * Concurrent calls for the same key share one execution: fifty listeners
 * asking for one uncached song make one upstream call.
 */
export class SingleFlight<T> {
  private readonly running = new Map<string, Promise<T>>();

  do(key: string, fn: () => Promise<T>): Promise<T> {
    const existing = this.running.get(key);
    if (existing) return existing;
    const p = fn().finally(() => this.running.delete(key));
    this.running.set(key, p);
    return p;
  }
}
