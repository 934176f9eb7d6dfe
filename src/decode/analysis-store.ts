import { appendFile, open, rename, stat, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { analysisSchema, type Analysis } from '../audio/loudness.js';

/** Versions remembered at most; past it, the oldest are forgotten (and analysed again if they come back). */
const MAX_ENTRIES = 50_000;
/** The file is read from at most its last this many bytes: MAX_ENTRIES entries take ~20 MB. */
const MAX_FILE_BYTES = 64 * 1024 * 1024;
/** An entry is a few hundred bytes; a longer line is not one. */
const MAX_LINE_BYTES = 64 * 1024;

/**
 * Analyses, one per media version (path, size, modification time), kept in
 * a JSON-lines file beside the media cache, so each version is analysed
 * once and a restart analyses nothing it has seen. Lines that do not parse
 * (a crash mid-write) are skipped; the file is rewritten compactly when it
 * has grown to twice what it holds.
 */
export class AnalysisStore {
  private readonly entries = new Map<string, Analysis>();
  private lines = 0;

  constructor(
    private readonly file: string,
    private readonly log: Logger,
    /** Read at most the file's last this many bytes (tests lower it). */
    private readonly maxFileBytes = MAX_FILE_BYTES,
  ) {}

  /**
   * Read the file in 1 MiB pieces (the event loop turns between them), at
   * most its last MAX_FILE_BYTES (older entries beyond that are measured
   * again when played), and no line longer than MAX_LINE_BYTES: a file
   * grown or tampered with to gigabytes costs bounded time and memory, and
   * what was left out is said.
   */
  async load(): Promise<void> {
    const handle = await open(this.file, 'r').catch(() => null);
    if (!handle) return;
    let skipped = 0;
    let cut: number;
    try {
      const size = (await handle.stat()).size;
      let at = Math.max(0, size - this.maxFileBytes);
      cut = at;
      // Starting mid-file: the first piece up to a newline is part of an older line.
      let partial = '';
      let dropping = at > 0;
      const buf = Buffer.alloc(1024 * 1024);
      for (;;) {
        const { bytesRead } = await handle.read(buf, 0, buf.length, at);
        if (bytesRead === 0) break;
        at += bytesRead;
        const lines = (partial + buf.toString('utf8', 0, bytesRead)).split('\n');
        partial = lines.pop()!;
        for (const line of lines) {
          if (dropping) {
            dropping = false;
            continue;
          }
          if (line) skipped += this.take(line) ? 0 : 1;
        }
        if (partial.length > MAX_LINE_BYTES) {
          // No valid entry is this long: the rest of this line is passed over.
          skipped += dropping ? 0 : 1;
          partial = '';
          dropping = true;
        }
      }
      if (partial && !dropping) skipped += this.take(partial) ? 0 : 1;
    } finally {
      await handle.close();
    }
    if (this.entries.size > 0) this.log.info({ songs: this.entries.size, file: this.file }, 'loudness analyses loaded');
    if (cut > 0)
      this.log.warn(
        { file: this.file, skippedBytes: cut, maxBytes: this.maxFileBytes },
        'analysis file is larger than is read: its oldest entries were left out (those songs will be measured again)',
      );
    if (skipped > 0) this.log.warn({ skipped, file: this.file }, 'analysis lines that are not valid were skipped; those songs will be measured again');
  }

  /** One line of the file; false when it is not a valid entry (a torn last line, one edited by hand). */
  private take(line: string): boolean {
    this.lines++;
    try {
      const { key, a } = JSON.parse(line) as { key: unknown; a: unknown };
      const parsed = analysisSchema.safeParse(a);
      if (typeof key !== 'string' || key.length > 8192 || !parsed.success) return false;
      this.remember(key, parsed.data);
      return true;
    } catch {
      return false;
    }
  }

  /** The key of a file's current version; null when it cannot be read. */
  /** `path` names the version; `statPath` is where it is read (a pinned file's descriptor), if elsewhere. */
  static async keyOf(path: string, statPath = path): Promise<string | null> {
    const st = await stat(statPath).catch(() => null);
    return st ? `${path}\u0000${st.size}\u0000${Math.round(st.mtimeMs)}` : null;
  }

  get(key: string): Analysis | undefined {
    return this.entries.get(key);
  }

  async put(key: string, a: Analysis): Promise<void> {
    this.remember(key, a);
    this.lines++;
    try {
      if (this.lines > 2 * this.entries.size + 100) await this.compact();
      else await appendFile(this.file, `${JSON.stringify({ key, a })}\n`);
    } catch (err) {
      this.log.warn({ file: this.file, err: String(err) }, 'cannot save a loudness analysis; it will be measured again after a restart');
    }
  }

  private remember(key: string, a: Analysis): void {
    this.entries.delete(key);
    this.entries.set(key, a);
    if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
  }

  private async compact(): Promise<void> {
    const text = [...this.entries].map(([key, a]) => JSON.stringify({ key, a })).join('\n');
    await writeFile(`${this.file}.tmp`, `${text}\n`);
    await rename(`${this.file}.tmp`, this.file);
    this.lines = this.entries.size;
  }
}
