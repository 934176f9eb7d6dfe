import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { trackKey, type Playlist, type Track } from '../../../config/playlist.js';
import { blockName } from '../../../config/programme.js';
import type { TrackInfo } from '../../../acquire/track-info.js';
import type { Song, SongEnd, SongSource } from '../source.js';
import { JingleClock } from './jingle-clock.js';
import { ListRunner, type ListDeps } from './list-runner.js';
import { Rotation } from './rotation.js';
import { Schedule } from './schedule.js';

export interface ProgrammeOptions {
  playlist: Playlist;
  log: Logger;
  /** How songs are prepared (resolver, decoders), the monotonic clock, collections. */
  deps: Omit<ListDeps, 'rotation'>;
  /** Wall-clock time (epoch ms): what the schedule and the top of the hour are read against. */
  clock?: () => number;
  /**
   * How far the mix runs ahead of what listeners receive, ms: a block is
   * started this much before its time, so it is heard on time. Default 800
   * (measured: a cut reaches the outputs ~0.6 s after it is mixed, what the
   * channel keeps queued in its encoder, and the incoming song is the louder
   * ~0.2 s into its fade).
   */
  anticipateMs?: number;
}

/** The block that starts next, and when. */
export interface NextBlock {
  /** The block's name; null: the channel's own list. */
  block: string | null;
  at: string;
}

/** A block due this soon has its first songs prepared, so it starts without a gap. */
export const PREPARE_AHEAD_MS = 60_000;
/** A block with a hard start due this soon has its first song's decoder started: at the cut, its audio is at hand. */
export const WARM_AHEAD_MS = 5_000;

/**
 * A channel's programme as one song source: the schedule's block on now
 * (else the channel's own list), station IDs between songs when due, and
 * songs asked for by hand before either. Each list is a PlaylistSource of
 * its own, so each keeps its place for the next time it is on; rotation
 * rules are shared by all the music lists.
 *
 * A block with a soft start takes over at the first seam after its time;
 * one with a hard start makes the source emit `cut` (the block's name) at
 * its time, and the channel fades out what plays.
 *
 * Events: `skipped` ({ track, reason }), `cut` (block name).
 */
export class ProgrammeSource extends EventEmitter implements SongSource {
  private playlist: Playlist;
  private readonly log: Logger;
  private readonly clock: () => number;
  private readonly anticipateMs: number;
  private readonly rotation: Rotation;
  private readonly main: ListRunner;
  private readonly requests: ListRunner;
  /** Requests a listener made (not the operator's queue): their titles say so. */
  private readonly asked = new WeakSet<object>();
  private catalogMemo: { sig: string; songs: readonly Track[] } | null = null;
  private blocks: ListRunner[] = [];
  private jingles: ListRunner | null = null;
  private schedule: Schedule;
  private readonly jingleClock: JingleClock;
  /** The block the clock says is on (-1: the channel's own list). */
  private wanted: number;
  /** A hard block has just been cut to: its first song goes before any jingle. */
  private blockFirst = false;
  private readonly owners = new Map<Song, ListRunner>();

  constructor(private readonly opts: ProgrammeOptions) {
    super();
    this.playlist = opts.playlist;
    this.log = opts.log;
    this.clock = opts.clock ?? Date.now;
    this.anticipateMs = opts.anticipateMs ?? 800;
    this.rotation = new Rotation(opts.playlist.rules, opts.deps.now);
    const deps: ListDeps = { ...opts.deps, rotation: this.rotation };
    this.main = this.runner(null, opts.playlist.tracks, opts.playlist, deps);
    this.requests = this.runner('requests', [], { order: 'sequential', loop: false }, { ...opts.deps });
    this.schedule = new Schedule(opts.playlist.schedule, opts.playlist.timezone);
    this.jingleClock = new JingleClock(opts.playlist.jingles, opts.playlist.timezone, this.clock());
    this.build(opts.playlist);
    this.wanted = this.schedule.at(this.clock() + this.anticipateMs);
  }

  /** The song prepared to play next, if known. */
  get next(): TrackInfo | Track | null {
    return this.requests.source.next ?? this.listOf(this.wanted).source.next;
  }

  /** The block the clock says is on (null: the channel's own list), and the next change. */
  get onNow(): { block: string | null; next: NextBlock | null } {
    return this.onAt(this.clock());
  }

  /** The block on at `now` (epoch ms) and the next change after it. */
  onAt(now: number): { block: string | null; next: NextBlock | null } {
    const block = this.schedule.at(now);
    const next = this.schedule.next(now);
    return {
      block: block < 0 ? null : this.blocks[block]!.name,
      next: next && { block: next.index < 0 ? null : this.blocks[next.index]!.name, at: new Date(next.at).toISOString() },
    };
  }

  prepare(): void {
    const t = this.clock() + this.anticipateMs;
    const now = this.schedule.at(t);
    if (now !== this.wanted) this.change(now);
    this.requests.source.prepare();
    this.listOf(now).source.prepare();
    this.jingles?.source.prepare();
    const soon = this.schedule.at(t + PREPARE_AHEAD_MS);
    if (soon !== now) this.listOf(soon).source.prepare();
    const cut = this.schedule.at(t + WARM_AHEAD_MS);
    if (cut !== now && cut >= 0 && this.playlist.schedule[cut]?.start === 'hard') this.listOf(cut).source.warmUp();
  }

  take(): Song | null {
    const requested = this.requests.source.take();
    if (requested) return this.handOut(requested, this.requests);
    const t = this.clock() + this.anticipateMs;
    if (this.jingles && !this.blockFirst && this.jingleClock.due(t)) {
      const jingle = this.jingles.source.take();
      if (jingle) {
        this.jingleClock.played(t);
        return this.handOut(jingle, this.jingles);
      }
    }
    const list = this.listOf(this.wanted);
    const song = list.source.take();
    if (!song) return null;
    this.blockFirst = false;
    this.jingleClock.song();
    return this.handOut(song, list);
  }

  warmUp(): void {
    if (this.requests.source.next) return this.requests.source.warmUp();
    if (this.jingles && !this.blockFirst && this.jingleClock.due(this.clock() + this.anticipateMs) && this.jingles.source.next)
      return this.jingles.source.warmUp();
    this.listOf(this.wanted).source.warmUp();
  }

  /** Back to the list that handed it out, first in its line. */
  giveBack(song: Song): void {
    const owner = this.owners.get(song);
    // Counted towards the next station ID as it was handed out; it was not heard (a skip before its title, a wait for its loudness).
    if (owner && owner !== this.jingles && owner !== this.requests) this.jingleClock.returned();
    owner?.source.giveBack(song);
  }

  finished(song: Song, end: SongEnd): void {
    const owner = this.owners.get(song);
    this.owners.delete(song);
    owner?.source.finished(song, end);
  }

  played(key: string): void {
    this.rotation.played(key);
    for (const list of this.lists()) list.source.played(key);
  }

  /** An edited playlist: every list keeps its place; collections unchanged stay open. */
  update(playlist: Playlist): void {
    this.playlist = playlist;
    this.rotation.set(playlist.rules);
    this.main.set(playlist.tracks, playlist);
    this.schedule = new Schedule(playlist.schedule, playlist.timezone);
    this.jingleClock.set(playlist.jingles, playlist.timezone);
    this.build(playlist);
  }

  request(track: Track, channelId: string, listener = false): number {
    const at = this.requests.source.request(track, channelId);
    if (listener) this.asked.add(track);
    return at;
  }

  /** Built again only when a list's songs changed: the request routes ask for it on every call. */
  catalog(): readonly Track[] {
    const lists = [this.main, ...this.blocks];
    const sig = lists.map((l) => l.version).join(',');
    if (this.catalogMemo?.sig !== sig) {
      const seen = new Set<string>();
      const songs = lists.flatMap((l) => l.songs).filter((t) => !seen.has(trackKey(t)) && seen.add(trackKey(t)));
      this.catalogMemo = { sig, songs };
    }
    return this.catalogMemo.songs;
  }

  close(): void {
    for (const list of this.lists()) list.close();
  }

  private lists(): ListRunner[] {
    return [this.main, this.requests, ...this.blocks, ...(this.jingles ? [this.jingles] : [])];
  }

  /** Blocks and jingles as the playlist lists them now (a block keeps its list, and place, while its index and name hold). */
  private build(playlist: Playlist): void {
    const deps: ListDeps = { ...this.opts.deps, rotation: this.rotation };
    const blocks = playlist.schedule.map((b, i) => {
      const name = blockName(b);
      const old = this.blocks[i];
      if (old && old.name === name) {
        old.set(b.tracks, { order: b.order, loop: true });
        return old;
      }
      old?.close();
      return this.runner(name, b.tracks, { order: b.order, loop: true }, deps);
    });
    for (const old of this.blocks.slice(playlist.schedule.length)) old.close();
    this.blocks = blocks;
    const j = playlist.jingles;
    if (!j) {
      this.jingles?.close();
      this.jingles = null;
    } else if (this.jingles) {
      this.jingles.set(j.tracks, { order: j.order, loop: true });
    } else {
      // Jingles are not music: no rotation rules, not counted in them.
      this.jingles = this.runner('jingles', j.tracks, { order: j.order, loop: true }, { ...this.opts.deps });
    }
    this.wanted = Math.min(this.wanted ?? -1, this.blocks.length - 1);
  }

  private runner(name: string | null, entries: Playlist['tracks'], spec: { order: Playlist['order']; loop: boolean }, deps: ListDeps): ListRunner {
    const list = new ListRunner(name, entries, spec, deps, this.log);
    list.source.on('skipped', (e) => this.emit('skipped', e));
    return list;
  }

  /** The list of block `i`; the channel's own for -1, or for a block whose list is empty (a folder with nothing in it yet). */
  private listOf(i: number): ListRunner {
    const block = i < 0 ? undefined : this.blocks[i];
    return block && block.source.size > 0 ? block : this.main;
  }

  private change(to: number): void {
    const from = this.listOf(this.wanted);
    this.wanted = to;
    const block = to < 0 ? undefined : this.playlist.schedule[to];
    const name = to < 0 ? null : this.blocks[to]!.name;
    this.log.info({ block: name ?? 'main', start: block?.start ?? 'soft' }, name ? `block "${name}" starts` : "blocks over: the channel's own list plays");
    // What the list going off the air had prepared is given back: its place is kept for next time.
    if (this.listOf(to) !== from) from.source.rest();
    if (block?.start === 'hard') {
      this.blockFirst = true;
      this.emit('cut', name);
    }
  }

  private handOut(song: Song, list: ListRunner): Song {
    this.owners.set(song, list);
    if (list === this.jingles) {
      const j = this.playlist.jingles!;
      song.info = { ...song.info, jingle: true, ...(j.title ? { title: j.title, artist: undefined, album: undefined } : {}), block: this.nameOf(this.wanted) };
      song.normalize = j.normalize;
    } else if (list !== this.requests) {
      song.info = { ...song.info, block: list.name ?? undefined };
    } else if (this.asked.has(song.track)) {
      song.info = { ...song.info, request: true };
    }
    return song;
  }

  private nameOf(i: number): string | undefined {
    return i < 0 ? undefined : (this.blocks[i]?.name ?? undefined);
  }
}
