import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** How long after start a read waits for Redis's first connection (see connected()). */
const STARTUP_GRACE_MS = 3000;

export type CacheStatus = 'ready' | 'down' | 'disabled' | 'memory';

/**
 * JSON values with a TTL each, in Redis when a URL is given. Redis is an
 * accelerator, never a dependency: when it is down, reads miss and writes are
 * dropped at once (no offline queue, short command timeout), and ioredis
 * reconnects by itself. Without a URL, values live in memory (bounded) or,
 * with `memory: false`, not at all.
 */
export class KvCache {
  private redis: Redis | null = null;
  private readonly memory: Map<string, { value: string; until: number }> | null;
  private wasDown = false;
  private closing = false;
  /** A Redis URL was given (the client may still be loading or connecting). */
  private configured = false;
  private readonly maxEntries: number;
  /** When the client was made: reads in the first STARTUP_GRACE_MS wait for its first connection. */
  private readonly createdAt = Date.now();
  /** Reads waiting for that first connection. */
  private readonly waitingForReady = new Set<() => void>();

  constructor(
    url: string | undefined,
    private readonly log: Logger,
    opts: { memory?: boolean; maxMemoryEntries?: number } = {},
  ) {
    this.memory = !url && opts.memory ? new Map() : null;
    this.maxEntries = opts.maxMemoryEntries ?? 10_000;
    if (!url) return;
    // Loaded only when Redis is configured: it is not needed to get on air.
    void import('ioredis').then(({ Redis }) => {
      if (this.closing) return;
      const redis = new Redis(url, {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: 250,
        connectTimeout: 2000,
        // Keep trying forever, at most every 2 s.
        retryStrategy: (times) => Math.min(times * 200, 2000),
      });
      redis.on('ready', () => {
        if (this.wasDown) this.log.info('redis is back; caching again');
        this.wasDown = false;
        for (const wake of this.waitingForReady) wake();
      });
      redis.on('error', (err: Error) => this.down(err));
      redis.on('close', () => this.down(new Error('connection closed')));
      this.redis = redis;
    });
    this.configured = true;
  }

  get status(): CacheStatus {
    if (this.memory) return 'memory';
    if (!this.configured) return 'disabled';
    if (!this.redis) return 'down';
    return this.redis.status === 'ready' ? 'ready' : 'down';
  }

  async get<T>(key: string): Promise<T | null> {
    const raw = await this.getRaw(key);
    return raw === null ? null : (JSON.parse(raw) as T);
  }

  async set(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    await this.setRaw(key, JSON.stringify(value), ttlSeconds);
  }

  /** The stored string as is: answers can be sent without parsing them again. */
  async getRaw(key: string): Promise<string | null> {
    if (this.memory) {
      const e = this.memory.get(key);
      return e && e.until >= Date.now() ? e.value : null;
    }
    if (!(await this.connected())) return null;
    try {
      return await this.redis!.get(key);
    } catch (err) {
      this.down(err);
      return null;
    }
  }

  async setRaw(key: string, value: string, ttlSeconds: number): Promise<void> {
    if (this.memory) {
      if (this.memory.size >= this.maxEntries) this.memory.delete(this.memory.keys().next().value!);
      this.memory.set(key, { value, until: Date.now() + ttlSeconds * 1000 });
      return;
    }
    if (!this.redis || this.redis.status !== 'ready') return;
    try {
      await this.redis.set(key, value, 'EX', Math.max(1, Math.round(ttlSeconds)));
    } catch (err) {
      this.down(err);
    }
  }

  /**
   * Whether Redis can be asked now. Right after start the client is still
   * loading and connecting (tens of ms, longer on a busy machine): a read
   * then waits for the first connection, up to STARTUP_GRACE_MS from the
   * client's creation, rather than missing. A restart's first reads are
   * the ones that matter most (a QQ playlist's kept copy, cached play
   * URLs while api-proxy is down); missing them meant a minute of silence.
   * Later, a Redis that is down is missed at once, as designed.
   */
  private async connected(): Promise<boolean> {
    if (this.isReady()) return true;
    const left = STARTUP_GRACE_MS - (Date.now() - this.createdAt);
    if (left <= 0 || this.closing) return false;
    await new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.waitingForReady.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, left);
      this.waitingForReady.add(wake);
    });
    return this.isReady();
  }

  private isReady(): boolean {
    return this.redis?.status === 'ready';
  }

  private closeCall: Promise<void> | undefined;

  /** A second call returns the first's promise. */
  close(): Promise<void> {
    return (this.closeCall ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    for (const wake of this.waitingForReady) wake();
    this.redis?.disconnect(false);
  }

  private down(err: unknown): void {
    if (this.wasDown || this.closing) return;
    this.wasDown = true;
    this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'redis unavailable; working without cache until it is back');
  }
}
