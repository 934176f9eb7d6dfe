import { appendFile, readFile, rename, stat, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { analysisSchema, type Analysis } from '../audio/loudness.js';

/** Versions remembered at most; past it, the oldest are forgotten (and analysed again if they come back). */
const MAX_ENTRIES = 50_000;

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
  ) {}

  async load(): Promise<void> {
    const text = await readFile(this.file, 'utf8').catch(() => '');
    let skipped = 0;
    for (const line of text.split('\n')) {
      if (!line) continue;
      this.lines++;
      try {
        const { key, a } = JSON.parse(line) as { key: unknown; a: unknown };
        const parsed = analysisSchema.safeParse(a);
        // A torn last line, or one edited by hand: skipped, the song is measured again.
        if (typeof key === 'string' && parsed.success) this.remember(key, parsed.data);
        else skipped++;
      } catch {
        skipped++;
      }
    }
    if (this.entries.size > 0) this.log.info({ songs: this.entries.size, file: this.file }, 'loudness analyses loaded');
    if (skipped > 0) this.log.warn({ skipped, file: this.file }, 'analysis lines that are not valid were skipped; those songs will be measured again');
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
