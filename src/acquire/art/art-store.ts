import { createHash, randomBytes } from 'node:crypto';
import { appendFile, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { AddressPolicy } from '../../config/address-policy.js';
import { readRegularFile } from '../../config/safe-files.js';
import { reasonOf } from '../../kernel/errors.js';
import { exponentialBackoff } from '../../kernel/retry.js';
import { Semaphore } from '../../kernel/semaphore.js';
import { downloadToFile } from '../fetch.js';
import { ART_SIZES, imageDemuxer, renderArt, type ArtSize, type PictureInput } from './image.js';

export interface ArtStoreOptions {
  /** Where pictures and their index live (CACHE_DIR/art). */
  dir: string;
  ffmpeg: string;
  /** Where remote art may come from (MEDIA_ALLOW_HOSTS), as for media. */
  policy: AddressPolicy;
  /** Folders a local `art` path must lie in (PLAYLISTS_DIR, MEDIA_DIRS). */
  roots: readonly string[];
  logger: Logger;
  /** Largest picture read (file or download). Default 10 MiB. */
  maxBytes?: number;
  /** A source that gave no picture is asked again after this long. Default 1 h. */
  retryAfterMs?: number;
}

/** A picture's id: the first 96 bits of its 600 px JPEG's SHA-256, in hex. */
export const ART_ID = /^[0-9a-f]{24}$/;
/**
 * Sources remembered at most (the oldest forgotten first). Pictures no
 * remembered source names are deleted at the next start, so the folder
 * stays near this many pictures (~100 KB each at three sizes).
 */
export const MAX_INDEX_ENTRIES = 20_000;
/** Pictures made at once: each is a short ffmpeg. */
const MAX_CONCURRENT = 2;

/**
 * Cover art, made once per source and kept on disk: each picture (a file's
 * embedded one, an image file or URL, a music service's album art) is
 * turned into JPEGs at ART_SIZES, named by their content, so one album's
 * songs share one picture and its URL never changes (cacheable forever).
 * An index (`index.jsonl`) remembers which source gave which picture, so a
 * restart makes nothing again; a source that gave none is retried after
 * `retryAfterMs`. Failures are logged and yield no art, never an error.
 */
export class ArtStore {
  private readonly index = new Map<string, { id: string | null; at: number }>();
  private readonly running = new Map<string, Promise<string | null>>();
  private readonly slots = new Semaphore(MAX_CONCURRENT);
  private readonly indexFile: string;
  /** Pictures made (ffmpeg runs), for tests and logs. */
  made = 0;

  constructor(private readonly opts: ArtStoreOptions) {
    this.indexFile = path.join(opts.dir, 'index.jsonl');
  }

  async load(): Promise<void> {
    await mkdir(path.join(this.opts.dir, 'tmp'), { recursive: true });
    const text = await readFile(this.indexFile, 'utf8').catch(() => '');
    let bad = 0;
    for (const line of text.slice(-32 * 1024 * 1024).split('\n')) {
      if (!line) continue;
      try {
        const e = JSON.parse(line) as { key?: unknown; id?: unknown; at?: unknown };
        if (typeof e.key !== 'string' || (e.id !== null && (typeof e.id !== 'string' || !ART_ID.test(e.id))) || typeof e.at !== 'number') throw new Error();
        this.remember(e.key, e.id, e.at);
      } catch {
        bad++;
      }
    }
    if (bad > 0) this.opts.logger.warn({ file: this.indexFile, lines: bad }, 'art index lines that are not valid were skipped; those pictures are made again');
    // An index grown with entries made again: rewritten compactly.
    if (bad > 0 || text.split('\n').length > 2 * this.index.size + 100) await this.compact();
    await this.sweep();
  }

  /** Delete the pictures no remembered source names any more (and what a crash left in tmp/). */
  private async sweep(): Promise<void> {
    const kept = new Set([...this.index.values()].map((e) => e.id).filter((id): id is string => id !== null));
    let removed = 0;
    for (const name of await readdir(this.opts.dir).catch(() => [] as string[])) {
      const m = /^([0-9a-f]{24})-\d+\.jpg$/.exec(name);
      if (m && !kept.has(m[1]!)) {
        await rm(path.join(this.opts.dir, name), { force: true });
        removed++;
      }
    }
    for (const name of await readdir(path.join(this.opts.dir, 'tmp')).catch(() => [] as string[]))
      await rm(path.join(this.opts.dir, 'tmp', name), { force: true });
    if (removed > 0) this.opts.logger.info({ files: removed }, 'pictures no song names any more were removed');
  }

  /** Path of a picture at one size, or null when there is no such picture. */
  async file(id: string, size: ArtSize): Promise<string | null> {
    if (!ART_ID.test(id)) return null;
    const p = this.pathOf(id, size);
    return (await stat(p).catch(() => null))?.isFile() ? p : null;
  }

  /**
   * The picture for `key`, made by `source` the first time (or again when
   * the last try gave none and is older than retryAfterMs). Concurrent asks
   * for one key share one making. Never throws: null is "no art".
   */
  get(key: string, label: string, source: () => Promise<PictureSource | null>): Promise<string | null> {
    const known = this.known(key);
    if (known !== undefined) return Promise.resolve(known);
    let run = this.running.get(key);
    if (!run) {
      run = this.slots
        .run(() => this.make(source))
        .catch((err: unknown) => {
          this.opts.logger.warn({ art: label, err: reasonOf(err) }, 'no cover art from this source');
          return null;
        })
        .then(async (id) => {
          await this.record(key, id);
          return id;
        })
        .finally(() => this.running.delete(key));
      this.running.set(key, run);
    }
    return run;
  }

  /** What the index says of `key` now: an id, null (none, not yet worth asking again), or undefined (ask). */
  known(key: string): string | null | undefined {
    const e = this.index.get(key);
    if (!e) return undefined;
    if (e.id !== null) return e.id;
    return Date.now() - e.at < (this.opts.retryAfterMs ?? 3_600_000) ? null : undefined;
  }

  /**
   * A playlist's `art`: an http(s) URL (fetched once), or an absolute path
   * inside the roots (made again when the file changes).
   */
  async fromRef(ref: string): Promise<string | null> {
    if (/^https?:\/\//i.test(ref)) return this.get(`url:${ref}`, ref, () => this.download(ref));
    const st = await stat(ref).catch(() => null);
    if (!st?.isFile()) {
      this.opts.logger.warn({ art: ref }, 'no cover art: the picture file is missing');
      return null;
    }
    return this.get(`file:${ref}\u0000${st.size}\u0000${Math.round(st.mtimeMs)}`, ref, () => this.local(ref));
  }

  private readonly peeked = new Map<string, { id: string | null; at: number }>();

  /**
   * A ref's picture as last found, without waiting (a channel's own art,
   * asked for by every view): looked up again in the background when that
   * is older than a minute, or was never done.
   */
  peek(ref: string): string | null {
    const last = this.peeked.get(ref);
    if (!last || Date.now() - last.at > 60_000) {
      if (this.peeked.size > 1000) this.peeked.clear();
      this.peeked.set(ref, { id: last?.id ?? null, at: Date.now() });
      void this.fromRef(ref).then((id) => this.peeked.set(ref, { id, at: Date.now() }));
    }
    return last?.id ?? null;
  }

  /** A picture from bytes given (a music service's answer). */
  async bytes(data: Buffer): Promise<PictureSource> {
    const tmp = this.tmpPath();
    await writeFile(tmp, data);
    return { file: tmp, temporary: true };
  }

  private async download(url: string): Promise<PictureSource> {
    const tmp = this.tmpPath();
    await downloadToFile(url, tmp, {
      maxBytes: this.maxBytes,
      policy: this.opts.policy,
      totalTimeoutMs: 30_000,
      retry: exponentialBackoff({ baseMs: 1000, capMs: 4000, maxAttempts: 2 }),
      headers: { accept: 'image/jpeg, image/png, image/webp' },
    });
    return { file: tmp, temporary: true };
  }

  private async local(file: string): Promise<PictureSource> {
    return this.bytes(await readRegularFile(file, this.opts.roots, this.maxBytes));
  }

  private async make(source: () => Promise<PictureSource | null>): Promise<string | null> {
    const got = await source();
    if (!got) return null;
    const stamp = this.tmpPath();
    const out = (s: ArtSize): string => `${stamp}-${s}.jpg`;
    try {
      let input: PictureInput;
      if ('attached' in got) input = { kind: 'attached', path: got.file, demuxers: got.attached };
      else {
        const head = Buffer.alloc(16);
        const h = await open(got.file, 'r');
        try {
          await h.read(head, 0, 16, 0);
        } finally {
          await h.close();
        }
        const demuxer = imageDemuxer(head);
        if (!demuxer) throw new Error('not a JPEG, PNG or WebP image');
        input = { kind: 'image', path: got.file, demuxer };
      }
      await renderArt(this.opts.ffmpeg, input, out);
      this.made++;
      const id = createHash('sha256')
        .update(await readFile(out(600)))
        .digest('hex')
        .slice(0, 24);
      for (const s of ART_SIZES) await rename(out(s), this.pathOf(id, s));
      return id;
    } finally {
      await Promise.all([...ART_SIZES.map((s) => rm(out(s), { force: true })), 'temporary' in got ? rm(got.file, { force: true }) : null]);
    }
  }

  private get maxBytes(): number {
    return this.opts.maxBytes ?? 10 * 1024 * 1024;
  }

  private pathOf(id: string, size: ArtSize): string {
    return path.join(this.opts.dir, `${id}-${size}.jpg`);
  }

  private tmpPath(): string {
    return path.join(this.opts.dir, 'tmp', randomBytes(8).toString('hex'));
  }

  private remember(key: string, id: string | null, at: number): void {
    this.index.delete(key);
    this.index.set(key, { id, at });
    if (this.index.size > MAX_INDEX_ENTRIES) this.index.delete(this.index.keys().next().value!);
  }

  private async record(key: string, id: string | null): Promise<void> {
    const at = Date.now();
    this.remember(key, id, at);
    try {
      await appendFile(this.indexFile, `${JSON.stringify({ key, id, at })}\n`);
    } catch (err) {
      this.opts.logger.warn({ file: this.indexFile, err: reasonOf(err) }, 'cannot save the art index; pictures are made again after a restart');
    }
  }

  private async compact(): Promise<void> {
    const tmp = `${this.indexFile}.tmp`;
    const lines = [...this.index].map(([key, e]) => JSON.stringify({ key, ...e }));
    await writeFile(tmp, lines.length ? `${lines.join('\n')}\n` : '');
    await rename(tmp, this.indexFile);
  }
}

/** Where a picture is: an image file (removed after when `temporary`), or the picture attached to a media file. */
export type PictureSource = { file: string; temporary: true } | { file: string; attached: readonly string[] };
