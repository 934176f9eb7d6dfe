import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { FolderEntry, Track } from '../../config/playlist.js';
import { reasonOf } from '../../kernel/errors.js';
import { isInside } from '../../config/safe-files.js';
import type { Collection } from './collection.js';
import { BACKGROUND_TIMERS, type Timers } from '../../kernel/lifecycle.js';

/** File name endings taken as audio; anything else in the folder is passed over. */
export const AUDIO_EXTENSIONS = new Set(['.mp3', '.m4a', '.aac', '.mp4', '.flac', '.ogg', '.oga', '.opus', '.wav', '.wma', '.aif', '.aiff', '.webm', '.mka']);
/** Files read from one folder entry at most; past it the rest are left out, with a warning. */
export const MAX_FOLDER_FILES = 100_000;
/** Folders below the entry's folder, at most this deep (links to folders are never followed: no loops). */
const MAX_DEPTH = 24;
/** Folders watched for changes at most; beyond, only the periodic re-read sees them. */
const MAX_WATCHED = 2000;

export interface FolderOptions {
  log: Logger;
  /** Folders the entry's folder must resolve into, links followed (PLAYLISTS_DIR, MEDIA_DIRS). */
  roots?: readonly string[];
  /** A full re-read this often, for file systems whose change events do not arrive. Default 60 s. */
  pollMs?: number;
  /** After a change event, wait this long for more before re-reading that folder. Default 300 ms. */
  settleMs?: number;
  timers?: Timers;
}

/**
 * Every audio file under a folder, recursively, as `file` songs in path
 * order, kept in step as files come and go: a change re-reads only the
 * folder it happened in (no file is opened or probed here; that happens
 * when a song is prepared, with every check a `file` song gets). Hidden
 * files and folders (".name") are left out, as are links to folders.
 */
export class FolderCollection extends EventEmitter implements Collection {
  tracks: readonly Track[] | null = null;
  /** Audio files by folder (absolute paths), and each folder's subfolders. */
  private readonly files = new Map<string, string[]>();
  private readonly subdirs = new Map<string, string[]>();
  private readonly watchers = new Map<string, FSWatcher>();
  /** Re-reads waiting for a burst of changes to settle, by folder: their cancel functions. */
  private readonly pending = new Map<string, () => void>();
  private readonly stopPoll: () => void;
  private closed = false;
  private signature = '';
  private warnedFull = false;
  private refusedWhy: string | null = null;

  constructor(
    private readonly entry: FolderEntry,
    private readonly opts: FolderOptions,
  ) {
    super();
    void this.readAll();
    this.stopPoll = this.timers.every(opts.pollMs ?? 60_000, () => void this.readAll());
  }

  private get timers(): Timers {
    return this.opts.timers ?? BACKGROUND_TIMERS;
  }

  close(): void {
    this.closed = true;
    this.stopPoll();
    for (const cancel of this.pending.values()) cancel();
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  /** Why the entry's folder is not read (it resolves outside the allowed folders), or null. */
  private async refusal(): Promise<string | null> {
    const roots = this.opts.roots;
    if (!roots) return null;
    const real = await realpath(this.entry.path).catch(() => null);
    if (real === null) return null;
    const realRoots = await Promise.all(roots.map((r) => realpath(r).catch(() => path.resolve(r))));
    return realRoots.some((r) => isInside(real, r)) ? null : `resolves to ${real}, outside the allowed folders (${roots.join(', ')})`;
  }

  private async readAll(): Promise<void> {
    const started = performance.now();
    this.files.clear();
    this.subdirs.clear();
    // The entry's folder may itself be a link (planted, or swapped in later): it is looked at, links resolved, at each full read.
    const why = await this.refusal();
    if (why !== null) {
      if (this.closed) return;
      if (!this.refusedWhy) this.opts.log.warn({ folder: this.entry.path, why }, `folder not read: it ${why}`);
      this.refusedWhy = why;
      for (const w of this.watchers.values()) w.close();
      this.watchers.clear();
      this.publish(null);
      return;
    }
    this.refusedWhy = null;
    const ok = await this.readTree(this.entry.path, 0);
    if (this.closed) return;
    for (const [dir, w] of this.watchers) {
      if (this.files.has(dir)) continue;
      w.close();
      this.watchers.delete(dir);
    }
    if (!ok && this.tracks === null) {
      this.opts.log.warn({ folder: this.entry.path }, 'folder cannot be read; its songs join once it can (re-read every minute)');
    }
    this.publish(Math.round(performance.now() - started));
  }

  /** Read `dir` and every folder below it. False when `dir` itself cannot be read. */
  private async readTree(dir: string, depth: number): Promise<boolean> {
    if (!(await this.readOne(dir))) return false;
    if (depth < MAX_DEPTH) for (const sub of this.subdirs.get(dir) ?? []) await this.readTree(sub, depth + 1);
    return true;
  }

  /** One folder's own audio files and subfolders. */
  private async readOne(dir: string): Promise<boolean> {
    let items;
    try {
      items = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      this.files.delete(dir);
      this.subdirs.delete(dir);
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') this.opts.log.warn({ folder: dir, err: reasonOf(err) }, 'folder cannot be read');
      return false;
    }
    const files: string[] = [];
    const dirs: string[] = [];
    for (const d of items) {
      if (d.name.startsWith('.')) continue;
      const abs = path.join(dir, d.name);
      if (d.isDirectory()) dirs.push(abs);
      else if ((d.isFile() || d.isSymbolicLink()) && AUDIO_EXTENSIONS.has(path.extname(d.name).toLowerCase())) files.push(abs);
    }
    files.sort(byName);
    dirs.sort(byName);
    this.files.set(dir, files);
    this.subdirs.set(dir, dirs);
    this.watchDir(dir);
    return true;
  }

  private watchDir(dir: string): void {
    if (this.closed || this.watchers.has(dir) || this.watchers.size >= MAX_WATCHED) return;
    try {
      const w = watch(dir, () => this.changed(dir));
      w.on('error', () => {
        w.close();
        this.watchers.delete(dir);
      });
      this.watchers.set(dir, w);
    } catch {
      // Unwatchable (too many inotify watches, a vanished folder): the periodic re-read covers it.
    }
  }

  /** Something changed in `dir`: re-read that folder alone (and a new subfolder's tree) once the burst settles. */
  private changed(dir: string): void {
    if (this.closed) return;
    this.pending.get(dir)?.();
    this.pending.set(
      dir,
      this.timers.after(this.opts.settleMs ?? 300, () => {
        this.pending.delete(dir);
        void this.reread(dir);
      }),
    );
  }

  private async reread(dir: string): Promise<void> {
    // A change at the top may be the folder itself swapped for a link: looked at again before it is read.
    if (this.refusedWhy !== null || (dir === this.entry.path && (await this.refusal()) !== null)) return this.readAll();
    const before = new Set(this.subdirs.get(dir) ?? []);
    const ok = await this.readOne(dir);
    if (this.closed) return;
    if (!ok) this.forget(dir);
    const now = this.subdirs.get(dir) ?? [];
    for (const sub of now) if (!before.has(sub)) await this.readTree(sub, depthOf(this.entry.path, sub));
    for (const sub of before) if (!now.includes(sub)) this.forget(sub);
    this.publish(null);
  }

  /** A folder gone: it and everything below it. */
  private forget(dir: string): void {
    for (const sub of this.subdirs.get(dir) ?? []) this.forget(sub);
    this.files.delete(dir);
    this.subdirs.delete(dir);
    this.watchers.get(dir)?.close();
    this.watchers.delete(dir);
  }

  /** The songs in path order; `change` only when they differ. */
  private publish(ms: number | null): void {
    const paths: string[] = [];
    const walk = (dir: string): void => {
      for (const f of this.files.get(dir) ?? []) if (paths.length < MAX_FOLDER_FILES) paths.push(f);
      for (const sub of this.subdirs.get(dir) ?? []) walk(sub);
    };
    walk(this.entry.path);
    if (paths.length >= MAX_FOLDER_FILES && !this.warnedFull) {
      this.warnedFull = true;
      this.opts.log.warn({ folder: this.entry.path, max: MAX_FOLDER_FILES }, `folder holds more than ${MAX_FOLDER_FILES} audio files: the rest are left out`);
    }
    const signature = paths.join('\n');
    if (this.tracks !== null && signature === this.signature) return;
    const had = this.tracks?.length ?? 0;
    this.signature = signature;
    const { art, gain, fadeIn, fadeOut } = this.entry;
    this.tracks = paths.map((p) => ({
      source: 'file' as const,
      path: p,
      ...(art === undefined ? {} : { art }),
      ...(gain === undefined ? {} : { gain }),
      ...(fadeIn === undefined ? {} : { fadeIn }),
      ...(fadeOut === undefined ? {} : { fadeOut }),
    }));
    this.opts.log.info({ folder: this.entry.path, songs: paths.length, before: had, ...(ms === null ? {} : { ms }) }, 'folder read');
    this.emit('change', this.tracks);
  }
}

const collator = new Intl.Collator(undefined, { numeric: true });
function byName(a: string, b: string): number {
  return collator.compare(a, b);
}

function depthOf(root: string, dir: string): number {
  return path.relative(root, dir).split(path.sep).length;
}
