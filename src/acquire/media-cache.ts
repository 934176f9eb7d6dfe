import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';

interface Entry {
  file: string;
  size: number;
  lastUsed: number;
  /** Readers holding the file; a held file is never evicted. */
  holds: number;
}

/** A cached file in use; release it when done so it can be evicted again. */
export interface CacheLease {
  path: string;
  release(): void;
}

/**
 * Media on disk, bounded in size, least recently used evicted first.
 *
 * Files are written under `tmp/` and renamed into `media/` only when whole,
 * so a crash or kill never leaves a partial file that looks complete; `tmp/`
 * is emptied at start. The index is rebuilt from the folder at start, using
 * modification times (touched on every use) as the recency order.
 */
export class MediaCache {
  private readonly entries = new Map<string, Entry>();
  private total = 0;
  private readonly mediaDir: string;
  private readonly tmpDir: string;
  hits = 0;
  misses = 0;

  constructor(
    dir: string,
    private readonly maxBytes: number,
    private readonly log: Logger,
  ) {
    this.mediaDir = path.join(dir, 'media');
    this.tmpDir = path.join(dir, 'tmp');
  }

  async init(): Promise<void> {
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true });
    await mkdir(this.mediaDir, { recursive: true });
    for (const name of await readdir(this.mediaDir)) {
      const file = path.join(this.mediaDir, name);
      const info = await stat(file).catch(() => null);
      if (!info?.isFile()) continue;
      this.entries.set(name, { file, size: info.size, lastUsed: info.mtimeMs, holds: 0 });
      this.total += info.size;
    }
    this.log.info({ files: this.entries.size, bytes: this.total, dir: this.mediaDir }, 'media cache ready');
    await this.evict();
  }

  get sizeBytes(): number {
    return this.total;
  }

  /** The cached file for `key`, held until released; null on a miss. */
  acquire(key: string): CacheLease | null {
    const entry = this.entries.get(nameFor(key));
    if (!entry) {
      this.misses += 1;
      return null;
    }
    this.hits += 1;
    entry.lastUsed = Date.now();
    void utimes(entry.file, new Date(), new Date()).catch(() => undefined);
    return this.hold(entry);
  }

  /** A fresh path under tmp/ for a download in progress. */
  tempPath(): string {
    return path.join(this.tmpDir, `${Date.now()}-${randomBytes(6).toString('hex')}.part`);
  }

  /** Move a complete temp file into the cache and hold it. */
  async commit(key: string, tempFile: string): Promise<CacheLease> {
    const name = nameFor(key);
    const file = path.join(this.mediaDir, name);
    const { size } = await stat(tempFile);
    await rename(tempFile, file);
    const old = this.entries.get(name);
    if (old) this.total -= old.size;
    const entry: Entry = { file, size, lastUsed: Date.now(), holds: old?.holds ?? 0 };
    this.entries.set(name, entry);
    this.total += size;
    const lease = this.hold(entry);
    await this.evict();
    return lease;
  }

  /** Drop one entry (a file found to be bad). */
  async remove(key: string): Promise<void> {
    const name = nameFor(key);
    const entry = this.entries.get(name);
    if (!entry) return;
    this.entries.delete(name);
    this.total -= entry.size;
    await rm(entry.file, { force: true });
  }

  /** Make room: evict least recently used, unheld files until under the bound. */
  async evict(extraBytes = 0): Promise<void> {
    if (this.total + extraBytes <= this.maxBytes) return;
    const candidates = [...this.entries.entries()].filter(([, e]) => e.holds === 0).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [name, entry] of candidates) {
      if (this.total + extraBytes <= this.maxBytes) break;
      this.entries.delete(name);
      this.total -= entry.size;
      await rm(entry.file, { force: true });
      this.log.info({ file: name, bytes: entry.size }, 'evicted from media cache');
    }
  }

  private hold(entry: Entry): CacheLease {
    entry.holds += 1;
    let released = false;
    return {
      path: entry.file,
      release: () => {
        if (released) return;
        released = true;
        entry.holds -= 1;
        // Files held while the cache filled up can go now.
        if (entry.holds === 0 && this.total > this.maxBytes) void this.evict();
      },
    };
  }
}

/** Cache keys can be long URLs: name files by their hash. */
function nameFor(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 40);
}
