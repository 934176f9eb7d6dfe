import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { QqPlaylist } from '../../kernel/api-proxy-contract.js';
import { cleanDisplayText, type QqPlaylistEntry, type QqTrack, type Track } from '../../config/playlist.js';
import { reasonOf } from '../../kernel/errors.js';
import type { Collection } from './collection.js';
import { BACKGROUND_TIMERS, type Timers } from '../../kernel/lifecycle.js';

/** What the collection needs of the QQ provider. */
export interface PlaylistProvider {
  playlist(id: string, opts?: { fresh?: boolean; signal?: AbortSignal }): Promise<{ playlist: QqPlaylist; stale: string | null }>;
  lastPlaylist(id: string): Promise<QqPlaylist | null>;
}

/** After a failed read with nothing kept, try again this soon. */
const RETRY_MS = 60_000;

/**
 * A QQ Music playlist followed as its owner edits it: read through
 * api-proxy at once (the copy kept from the last run first, so a restart
 * plays without waiting), then every `refreshMinutes`. Songs added upstream
 * join the rotation and removed ones leave it (the list keeps its place, the
 * song on air plays on); songs the service says cannot be played (VIP-only)
 * are left out with their reason; a failed read keeps the last songs.
 */
export class QqPlaylistCollection extends EventEmitter implements Collection {
  tracks: readonly Track[] | null = null;
  private cancelTimer: (() => void) | null = null;
  private closed = false;
  private readonly abort = new AbortController();
  private mids = new Set<string>();
  private reads = 0;

  constructor(
    private readonly entry: QqPlaylistEntry,
    private readonly provider: PlaylistProvider | undefined,
    private readonly log: Logger,
    private readonly timers: Timers = BACKGROUND_TIMERS,
  ) {
    super();
    if (!provider) {
      log.warn({ playlist: entry.id }, 'qq-playlist entries need API_PROXY_URL and API_PROXY_TOKEN: this one is left out');
      this.tracks = [];
      return;
    }
    void this.start(provider);
  }

  close(): void {
    this.closed = true;
    this.abort.abort();
    this.cancelTimer?.();
  }

  private async start(provider: PlaylistProvider): Promise<void> {
    const kept = await provider.lastPlaylist(this.entry.id).catch(() => null);
    if (kept && !this.closed && this.tracks === null) this.publish(kept, 'kept from the last run');
    await this.read(provider);
  }

  private async read(provider: PlaylistProvider): Promise<void> {
    if (this.closed) return;
    let next = this.entry.refreshMinutes * 60_000;
    try {
      // A re-read asks the proxy for the playlist as it is now, not as it cached it.
      const { playlist, stale } = await provider.playlist(this.entry.id, { fresh: this.reads++ > 0, signal: this.abort.signal });
      if (stale) this.log.warn({ playlist: this.entry.id, err: stale }, 'QQ playlist cannot be read now; the copy kept from the last read plays');
      if (!this.closed) this.publish(playlist, stale ? 'kept' : 'read');
    } catch (err) {
      if (this.closed) return;
      this.log.warn(
        { playlist: this.entry.id, err: reasonOf(err), kept: this.tracks?.length ?? 0 },
        this.tracks ? 'QQ playlist cannot be read now; its last songs keep playing' : 'QQ playlist cannot be read; retrying in a minute',
      );
      if (!this.tracks) next = RETRY_MS;
    }
    if (this.closed) return;
    this.cancelTimer = this.timers.after(next, () => void this.read(provider));
  }

  private publish(list: QqPlaylist, how: string): void {
    const { art, gain, fadeIn, fadeOut } = this.entry;
    const unplayable = list.songs.filter((s) => !s.playable);
    const tracks: QqTrack[] = list.songs
      .filter((s) => s.playable)
      .map((s) => {
        const title = cleanDisplayText(s.title);
        const artist = cleanDisplayText(s.artists.map((a) => a.name).join(' / '));
        const album = cleanDisplayText(s.album?.name);
        return {
          source: 'qq' as const,
          id: s.mid,
          ...(title ? { title } : {}),
          ...(artist ? { artist } : {}),
          ...(album ? { album } : {}),
          ...(art === undefined ? {} : { art }),
          ...(gain === undefined ? {} : { gain }),
          ...(fadeIn === undefined ? {} : { fadeIn }),
          ...(fadeOut === undefined ? {} : { fadeOut }),
        };
      });
    const mids = new Set(tracks.map((t) => t.id));
    const added = [...mids].filter((m) => !this.mids.has(m));
    const removed = [...this.mids].filter((m) => !mids.has(m));
    const first = this.tracks === null;
    const same = !first && added.length === 0 && removed.length === 0 && JSON.stringify(tracks) === JSON.stringify(this.tracks);
    if (unplayable.length > 0 && (first || !same)) {
      this.log.info(
        { playlist: this.entry.id, count: unplayable.length, songs: unplayable.slice(0, 5).map((s) => s.mid), reason: 'SCAST_SONG_NOT_PLAYABLE' },
        `${unplayable.length} song(s) of the QQ playlist left out: the service says they cannot be played without paying (VIP-only)`,
      );
    }
    if (same) return;
    this.mids = mids;
    this.tracks = tracks;
    this.log.info(
      {
        playlist: this.entry.id,
        title: list.title,
        songs: tracks.length,
        added: first ? undefined : added.length,
        removed: first ? undefined : removed.length,
        how,
      },
      first ? 'QQ playlist read' : 'QQ playlist changed upstream',
    );
    this.emit('change', tracks);
  }
}
