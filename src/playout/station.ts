import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { loadPlaylistFile, readPlaylistBytes, type LoadedPlaylist } from '../config/playlist-file.js';
import type { Playlist } from '../config/playlist.js';
import { PlaylistError, reasonOf } from '../kernel/errors.js';
import { REAL_TIMERS, type Timers } from '../kernel/lifecycle.js';
import type { Channel } from './channel.js';

export interface StationOptions {
  dir: string;
  /** Folders `file` tracks may live in besides `dir`. */
  mediaDirs: readonly string[];
  logger: Logger;
  createChannel: (loaded: LoadedPlaylist) => Channel;
  /** Re-scan the folder this often, for file systems whose change events do not arrive (some bind mounts). */
  pollMs?: number;
  /** Rescan and debounce timers. Default: real ones. */
  timers?: Timers;
}

export interface StationEvents {
  'channel-added': [Channel];
  'channel-removed': [Channel];
  invalid: [PlaylistError];
}

interface FileState {
  /** Hash of the bytes last looked at, applied or not. */
  hash: string;
  /** The file's identity, size and times when last read: the poll reads a file again only when they change. */
  stamp: string;
  channel: Channel | null;
  /** Last error reported for this file, to report each problem once. */
  error: string | null;
}

/**
 * The channels, one per playlist file, kept in step with the folder while
 * running: a new file starts a channel, an edit is applied without cutting
 * the song on air, a deleted file ends its channel. An invalid edit is
 * reported once and the last valid version keeps playing.
 *
 * Events: `channel-added` (Channel), `channel-removed` (Channel),
 * `invalid` (PlaylistError).
 */
export class Station extends EventEmitter<StationEvents> {
  private readonly files = new Map<string, FileState>();
  private watcher: FSWatcher | null = null;
  private stopPoll: (() => void) | null = null;
  /** Each file's pending debounced apply, by its cancel function. */
  private readonly debounce = new Map<string, () => void>();
  private running = Promise.resolve();
  private closing: Promise<void> | undefined;
  private readonly timers: Timers;
  /** Playlist files the last scan found: the channels about to run, while the first scan is still starting them. */
  private filesFound = 0;
  /** idle --start()--> running --close()--> closed. */
  status: 'idle' | 'running' | 'closed' = 'idle';

  constructor(private readonly opts: StationOptions) {
    super();
    this.timers = opts.timers ?? REAL_TIMERS;
  }

  get channels(): Channel[] {
    return [...this.files.values()].flatMap((f) => (f.channel ? [f.channel] : []));
  }

  /**
   * Channels the station runs or is about to: at the first scan, every
   * playlist file found, before their channels have all started. Whatever
   * is decided by the station's size (where encoders run) is decided on
   * this, or the first channels to start would be decided as a small
   * station's.
   */
  get plannedChannels(): number {
    return Math.max(this.filesFound, this.files.size, this.channels.length);
  }

  channel(id: string): Channel | undefined {
    return this.channels.find((c) => c.id === id);
  }

  /** The playlist file behind a channel. */
  fileOf(channel: Channel): string | undefined {
    for (const [file, state] of this.files) if (state.channel === channel) return file;
    return undefined;
  }

  /** Folders `file` tracks may live in. */
  get roots(): string[] {
    return [this.opts.dir, ...this.opts.mediaDirs];
  }

  byMount(mount: string): Channel | undefined {
    return this.channels.find((c) => c.playlist.mount === mount);
  }

  /** The channel streaming at `mount`, as its own or as one of its renditions. */
  owning(mount: string): Channel | undefined {
    return this.channels.find((c) => c.playlist.mount === mount || c.playlist.renditions.some((r) => r.mount === mount));
  }

  async start(): Promise<void> {
    if (this.status !== 'idle') return;
    this.status = 'running';
    await this.rescan();
    if (this.status !== 'running') return;
    try {
      this.watcher = watch(this.opts.dir, (_event, name) => {
        if (name && name.endsWith('.json')) this.schedule(path.join(this.opts.dir, name));
      });
      this.watcher.on('error', (err) => this.opts.logger.warn({ err: reasonOf(err) }, 'playlist folder watch failed; polling only'));
    } catch (err) {
      this.opts.logger.warn({ err: reasonOf(err) }, 'cannot watch the playlist folder; polling only');
    }
    this.stopPoll = this.timers.every(this.opts.pollMs ?? 2000, () => void this.rescan(false));
  }

  /**
   * Look at every file again: the poll (`force` false) reads only those
   * whose inode, size or times changed; POST /api/reload reads every one.
   */
  rescan(force = true): Promise<void> {
    return this.serial(async () => {
      const names = await readdir(this.opts.dir).catch((err: unknown) => {
        this.opts.logger.error({ dir: this.opts.dir, err: reasonOf(err) }, 'cannot read the playlist folder');
        return [] as string[];
      });
      const present = new Set(names.filter((n) => n.endsWith('.json')).map((n) => path.join(this.opts.dir, n)));
      this.filesFound = present.size;
      for (const file of [...this.files.keys()]) if (!present.has(file)) await this.apply(file, force);
      for (const file of [...present].sort()) await this.apply(file, force);
    });
  }

  /** Stop watching and close every channel. A second call returns the first's promise. */
  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    this.status = 'closed';
    this.watcher?.close();
    this.stopPoll?.();
    for (const cancel of this.debounce.values()) cancel();
    await this.running;
    await Promise.all(this.channels.map((c) => c.close()));
  }

  private schedule(file: string): void {
    this.debounce.get(file)?.();
    // Editors save in several steps; wait for the last one.
    this.debounce.set(
      file,
      this.timers.after(150, () => {
        this.debounce.delete(file);
        void this.serial(() => this.apply(file, true));
      }),
    );
  }

  /** Run changes one at a time, so two edits never race. */
  private serial(fn: () => Promise<void>): Promise<void> {
    const next = this.running.then(() => (this.status === 'closed' ? undefined : fn()));
    this.running = next.catch((err: unknown) => this.opts.logger.error({ err: reasonOf(err) }, 'playlist reload failed'));
    return this.running;
  }

  private async apply(file: string, force: boolean): Promise<void> {
    const state = this.files.get(file);
    const gone = await lstat(file).then(
      () => false,
      (err: NodeJS.ErrnoException) => err.code === 'ENOENT',
    );
    if (gone) {
      if (state?.channel) {
        this.opts.logger.info({ file, channel: state.channel.id }, 'playlist removed; ending channel');
        await this.remove(state.channel);
      }
      this.files.delete(file);
      return;
    }
    const current: FileState = state ?? { hash: '', stamp: '', channel: null, error: null };
    this.files.set(file, current);
    // Through links: the target's, which is what is read.
    const stamp = await stat(file, { bigint: true }).then(
      (st) => `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`,
      () => '',
    );
    if (!force && stamp !== '' && stamp === current.stamp) return;
    current.stamp = stamp;
    try {
      // A FIFO, a device, a link out of the folder or a huge file is refused here, unread.
      const bytes = await readPlaylistBytes(file, this.opts.dir);
      const hash = createHash('sha1').update(bytes).digest('hex');
      if (current.hash === hash) return;
      current.hash = hash;
      const loaded = await loadPlaylistFile(file, [this.opts.dir, ...this.opts.mediaDirs], bytes);
      this.checkMountFree(loaded, current.channel);
      current.error = null;
      await this.applyValid(current, loaded);
    } catch (err) {
      const error = err instanceof PlaylistError ? err : new PlaylistError(file, [{ where: '', message: reasonOf(err) }], { cause: err });
      if (current.error !== error.message) {
        current.error = error.message;
        this.opts.logger.error(
          { file, issues: error.issues, keptPlaying: current.channel !== null },
          `invalid playlist: ${error.message}${current.channel ? ' (the last valid version keeps playing)' : ''}`,
        );
        this.emit('invalid', error);
      }
    }
  }

  private checkMountFree(loaded: LoadedPlaylist, own: Channel | null): void {
    const { playlist } = loaded;
    const mounts: [string, string][] = [['mount', playlist.mount], ...playlist.renditions.map((r, i): [string, string] => [`renditions[${i}].mount`, r.mount])];
    for (const [where, mount] of mounts) {
      const other = this.owning(mount);
      if (other && other !== own) throw new PlaylistError(loaded.file, [{ where, message: `mount ${mount} is already used by channel "${other.id}"` }]);
    }
  }

  private async applyValid(state: FileState, loaded: LoadedPlaylist): Promise<void> {
    const old = state.channel;
    if (old && !newStream(old.playlist, loaded.playlist)) {
      old.update(loaded.playlist);
      return;
    }
    if (old) {
      // A new mount, bitrate, rendition, HLS or RTMP target is a new stream: outputs must reconnect anyway.
      this.opts.logger.info({ channel: old.id }, 'mount, bitrate, renditions, HLS or RTMP changed; restarting channel');
      await this.remove(old);
    }
    const channel = this.opts.createChannel(loaded);
    state.channel = channel;
    this.opts.logger.info({ channel: channel.id, mount: loaded.playlist.mount, tracks: loaded.playlist.tracks.length }, 'channel started');
    this.emit('channel-added', channel);
    // On air once its outputs are attached: they get its first audio.
    channel.start();
  }

  private async remove(channel: Channel): Promise<void> {
    for (const state of this.files.values()) if (state.channel === channel) state.channel = null;
    this.emit('channel-removed', channel);
    await channel.close();
  }
}

/** Whether an edit changes what is streamed where (then the channel restarts), not only what plays. */
function newStream(a: Playlist, b: Playlist): boolean {
  const same = (k: 'renditions' | 'rtmp') => JSON.stringify(a[k]) === JSON.stringify(b[k]);
  return a.mount !== b.mount || a.bitrate !== b.bitrate || a.hls !== b.hls || !same('renditions') || !same('rtmp');
}
