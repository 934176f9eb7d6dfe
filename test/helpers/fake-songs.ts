/**
 * Fake songs for unit tests of playout: PCM made from a function of the
 * frame index, delivered as fast (or as slowly) as a test says, with no
 * ffmpeg. What a test checks is then known to the sample.
 */
import { EventEmitter } from 'node:events';
import type { Playlist, Track } from '../../src/config/playlist.js';
import type { TrackInfo } from '../../src/acquire/track-info.js';
import type { PcmFeed, Song, SongEnd } from '../../src/playout/sources/source.js';
import type { ChannelSource } from '../../src/playout/channel.js';

export class FakeFeed implements PcmFeed {
  /** Frames taken. */
  pos = 0;
  /** Frames the "decoder" has produced so far (a test raises it to simulate a slow one). */
  produced: number;
  error: Error | null = null;
  destroyed = false;
  private abandoned = false;

  constructor(
    readonly total: number,
    readonly value: (frame: number) => number,
    produced = total,
  ) {
    this.produced = produced;
  }

  /** Bytes of a frame not yet whole that a pipe may hold (a decoder's chunks have any length). */
  partialBytes = 0;

  lookahead(): number {
    return (this.produced - this.pos) * 4 + (this.complete ? 0 : this.partialBytes);
  }

  get complete(): boolean {
    return this.abandoned || this.produced >= this.total;
  }

  get ended(): boolean {
    return this.complete && this.pos >= this.produced;
  }

  take(max: number): Buffer | null {
    const n = Math.min(Math.floor(max / 4), this.produced - this.pos);
    if (n <= 0) return null;
    // Through a typed array (little-endian here, as PCM is): the sweeps of the channel tests take minutes of audio.
    const samples = new Int16Array(n * 2);
    for (let i = 0; i < n; i++) samples[2 * i] = samples[2 * i + 1] = this.value(this.pos + i);
    this.pos += n;
    return Buffer.from(samples.buffer);
  }

  abandon(reason: string): void {
    this.abandoned = true;
    this.error = new Error(reason);
    this.produced = this.pos;
  }

  destroy(): void {
    this.destroyed = true;
  }
}

let counter = 0;

/** A song of `frames` frames whose every sample is `value(frame)`. */
export function fakeSong(
  frames: number,
  value: number | ((frame: number) => number),
  opts: { track?: Partial<Track>; produced?: number; seconds?: number | null; gainDb?: number; partialBytes?: number } = {},
): Song & { feed: FakeFeed } {
  const key = `fake:${++counter}`;
  const fn = typeof value === 'number' ? () => value : value;
  const info: TrackInfo = { key, source: 'file', title: key };
  return {
    info,
    label: key,
    track: { source: 'file', path: `${key}.wav`, ...opts.track } as Track,
    analysis: null,
    feed: Object.assign(new FakeFeed(frames, fn, opts.produced ?? frames), { partialBytes: opts.partialBytes ?? 0 }),
    seconds: opts.seconds === undefined ? frames / 44100 : opts.seconds,
    gainDb: opts.gainDb ?? 0,
  };
}

/** A source handing out the songs it is given, recording how each left the air. */
export class FakeSource extends EventEmitter implements ChannelSource {
  readonly queue: Song[] = [];
  readonly ends: { song: Song; end: SongEnd }[] = [];
  readonly playedKeys: string[] = [];
  warmUps = 0;
  updates: Playlist[] = [];

  constructor(songs: Song[] = []) {
    super();
    this.queue.push(...songs);
  }

  get next(): TrackInfo | null {
    return this.queue[0]?.info ?? null;
  }

  prepare(): void {}

  take(): Song | null {
    return this.queue.shift() ?? null;
  }

  warmUp(): void {
    this.warmUps += 1;
  }

  finished(song: Song, end: SongEnd): void {
    this.ends.push({ song, end });
  }

  /** Songs given back, in order. */
  readonly givenBack: Song[] = [];

  /** First in line again, with a fresh feed from its start. */
  giveBack(song: Song): void {
    this.givenBack.push(song);
    const feed = song.feed as FakeFeed;
    this.queue.unshift({ ...song, info: { ...song.info }, feed: new FakeFeed(feed.total, feed.value) });
  }

  played(key: string): void {
    this.playedKeys.push(key);
  }

  update(playlist: Playlist): void {
    this.updates.push(playlist);
  }

  /** Songs to hand out for requests, by the track's path; a request not listed here is taken and never played. */
  readonly requestable = new Map<string, Song>();

  /** Next, after earlier requests (the songs at the front that were requested), before the list goes on. */
  request(track: Track): number {
    const song = this.requestable.get((track as { path?: string }).path ?? '');
    if (!song) return 1;
    const at = this.queue.findIndex((s) => !this.requested.has(s));
    const position = at < 0 ? this.queue.length : at;
    this.queue.splice(position, 0, song);
    this.requested.add(song);
    return position + 1;
  }

  private readonly requested = new Set<Song>();

  close(): void {}
}
