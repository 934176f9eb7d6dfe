import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { AddressPolicy } from '../../config/address-policy.js';
import { cleanDisplayText, type M3uEntry, type Track } from '../../config/playlist.js';
import { resolveTrackPath } from '../../config/playlist-file.js';
import { readRegularFile } from '../../config/safe-files.js';
import { reasonOf } from '../../kernel/errors.js';
import { redactUrl } from '../../kernel/redact.js';
import { downloadToFile } from '../fetch.js';
import type { Collection } from './collection.js';
import { BACKGROUND_TIMERS, type Timers } from '../../kernel/lifecycle.js';
import { parsePlaylistText, type ListedEntry } from './playlist-formats.js';

/** Largest playlist file read, local or downloaded. */
export const MAX_LIST_BYTES = 4 * 1024 * 1024;
/** Entries turned into songs between two turns of the event loop. */
const SLICE = 1000;
/** A local list is looked at for changes this often (its size and time of change). */
const LOCAL_CHECK_MS = 2000;
/** After a failed first read, try again this soon. */
const RETRY_MS = 60_000;

export interface M3uOptions {
  log: Logger;
  /** Folders local entries (and a local list) must resolve into. */
  roots: readonly string[];
  /** Where a list at a URL, and its URL entries, may come from (MEDIA_ALLOW_HOSTS). */
  policy: AddressPolicy;
  timers?: Timers;
}

/**
 * An M3U/M3U8, PLS or XSPF list as songs, re-read when it changes (a local
 * file) or every `refreshMinutes` (a URL). Entries are checked like playlist
 * entries: local paths (relative to the list) must stay inside the allowed
 * folders, URLs must be http(s), anything else (file:// out of the folders,
 * rtsp:, smb:, a data URI) is left out with a log line. A failed re-read
 * keeps the songs read last.
 */
export class M3uCollection extends EventEmitter implements Collection {
  tracks: readonly Track[] | null = null;
  private cancelTimer: (() => void) | null = null;
  private closed = false;
  private lastStamp = '';
  private signature = '';

  constructor(
    private readonly entry: M3uEntry,
    private readonly opts: M3uOptions,
  ) {
    super();
    void this.read();
  }

  close(): void {
    this.closed = true;
    this.cancelTimer?.();
  }

  private get where(): string {
    return this.entry.path ?? redactUrl(this.entry.url!);
  }

  private async read(): Promise<void> {
    let next = this.entry.path ? LOCAL_CHECK_MS : this.entry.refreshMinutes * 60_000;
    try {
      const text = await this.fetchText();
      if (text !== null) await this.publish(parsePlaylistText(text));
    } catch (err) {
      this.opts.log.warn(
        { list: this.where, err: reasonOf(err), kept: this.tracks?.length ?? 0 },
        this.tracks ? 'playlist file cannot be read; its last songs keep playing' : 'playlist file cannot be read; retrying',
      );
      if (!this.tracks) next = Math.min(next, RETRY_MS);
    }
    if (this.closed) return;
    this.cancelTimer = (this.opts.timers ?? BACKGROUND_TIMERS).after(next, () => void this.read());
  }

  /** The list's text, or null when a local file has not changed since the last read. */
  private async fetchText(): Promise<string | null> {
    if (this.entry.path) {
      const st = await stat(this.entry.path);
      const stamp = `${st.size}:${st.mtimeMs}:${st.ino}`;
      if (stamp === this.lastStamp) return null;
      const bytes = await readRegularFile(this.entry.path, this.opts.roots, MAX_LIST_BYTES);
      this.lastStamp = stamp;
      return bytes.toString('utf8');
    }
    const tmp = path.join(tmpdir(), `scast-list-${randomUUID()}`);
    try {
      await downloadToFile(this.entry.url!, tmp, { maxBytes: MAX_LIST_BYTES, policy: this.opts.policy, totalTimeoutMs: 30_000 });
      return await readFile(tmp, 'utf8');
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /**
   * The entries as songs, compared with the last read. Done in slices of
   * SLICE entries with the event loop let go between them: a list of 20 000
   * entries changing at every refresh cost the audio path a 300 ms stall
   * at each read when done in one go.
   */
  private async publish(listed: ListedEntry[]): Promise<void> {
    const refused: string[] = [];
    const tracks: Track[] = [];
    const digest = createHash('sha256');
    for (let i = 0; i < listed.length; i += SLICE) {
      if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.closed) return;
      for (const e of listed.slice(i, i + SLICE)) {
        const track = this.toTrack(e);
        if (track) {
          tracks.push(track);
          digest.update(JSON.stringify(track)).update('\n');
        } else refused.push(e.location.slice(0, 200));
      }
    }
    if (refused.length > 0) {
      this.opts.log.warn(
        { list: this.where, refused: refused.slice(0, 5), count: refused.length },
        `${refused.length} entr${refused.length === 1 ? 'y' : 'ies'} of the list left out: outside the allowed folders, or not an http(s) URL or a file`,
      );
    }
    const signature = digest.digest('hex');
    if (this.tracks !== null && signature === this.signature) return;
    this.signature = signature;
    const had = this.tracks?.length ?? 0;
    this.tracks = tracks;
    this.opts.log.info({ list: this.where, songs: tracks.length, before: had }, 'playlist file read');
    this.emit('change', tracks);
  }

  private toTrack(e: ListedEntry): Track | null {
    const { art, gain, fadeIn, fadeOut } = this.entry;
    const own = {
      ...(cleanDisplayText(e.title, 500) ? { title: cleanDisplayText(e.title, 500)! } : {}),
      ...(cleanDisplayText(e.artist, 500) ? { artist: cleanDisplayText(e.artist, 500)! } : {}),
      ...(art === undefined ? {} : { art }),
      ...(gain === undefined ? {} : { gain }),
      ...(fadeIn === undefined ? {} : { fadeIn }),
      ...(fadeOut === undefined ? {} : { fadeOut }),
    };
    const loc = e.location;
    if (/^https?:\/\//i.test(loc)) return isUrl(loc) ? { source: 'url', url: loc, ...own } : null;
    if (this.entry.url) {
      // A relative entry in a list at a URL is a URL beside it; nothing local is reachable from there.
      if (/^[a-z][a-z0-9+.-]*:/i.test(loc) || loc.startsWith('/')) return null;
      const u = new URL(loc, this.entry.url).toString();
      return isUrl(u) ? { source: 'url', url: u, ...own } : null;
    }
    let local: string;
    if (/^file:/i.test(loc)) {
      try {
        local = fileURLToPath(loc);
      } catch {
        return null;
      }
    } else if (/^[a-z][a-z0-9+.-]+:/i.test(loc)) {
      return null;
    } else {
      local = loc.replace(/\\/g, '/');
    }
    const abs = resolveTrackPath(local, path.dirname(this.entry.path!), this.opts.roots);
    return abs === null ? null : { source: 'file', path: abs, ...own };
  }
}

function isUrl(u: string): boolean {
  try {
    const p = new URL(u).protocol;
    return (p === 'http:' || p === 'https:') && u.length <= 8192;
  } catch {
    return false;
  }
}
