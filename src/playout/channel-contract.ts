/**
 * What a Channel is made with and what it says: its status, its source,
 * its options and its events. Kept apart from the class so that readers of
 * the channel (outputs, the feed, the API) see its contract at a glance.
 */
import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Playlist, Track } from '../config/playlist.js';
import type { Timers } from '../kernel/lifecycle.js';
import type { StartEncoding } from './encoder-keeper.js';
import type { RenditionSpec } from './rendition.js';
import type { LiveShowRecord } from './live-shows.js';
import type { NowPlaying, TrackInfo } from './now-playing.js';
import type { SongSource } from './sources/source.js';

/**
 * Lifecycle: idle (built) --start()--> on-air (silence until a song is
 * ready) --close()--> closing --> closed; any --destroy()--> closed.
 * Encoder or song failures never leave on-air; they are retried by policy.
 */
export type ChannelStatus = 'idle' | 'on-air' | 'closing' | 'closed';

/** What a channel plays from: a song source that also takes edits and requests (a playlist). */
export interface ChannelSource extends SongSource, EventEmitter {
  /** The song prepared to play next, if known. */
  readonly next: TrackInfo | Track | null;
  /** A song's title went up. */
  played(key: string): void;
  update(playlist: Playlist): void;
  /** Play `track` next, after earlier requests; returns its position. `listener`: a listener asked for it (its title says so). */
  request(track: Track, channelId: string, listener?: boolean): number;
  /** The songs listeners may ask for: the channel's own list and its blocks', collections read. */
  catalog?(): readonly Track[];
  close(): void;
  /** The schedule block on now and the next change, for a programme. */
  readonly onNow?: { block: string | null; next: { block: string | null; at: string } | null };
  /** The block on at `ms` (epoch) and the next change after it. */
  onAt?(ms: number): { block: string | null; next: { block: string | null; at: string } | null };
}

export interface ChannelOptions {
  id: string;
  playlist: Playlist;
  source: ChannelSource;
  /** Starts one run of the encoder (see EncoderKeeper). */
  startEncoding: StartEncoding;
  /** Starts one run of a rendition's encoder; needed when the playlist has renditions. */
  startRendition?: ((spec: RenditionSpec) => StartEncoding) | undefined;
  logger: Logger;
  /** How far ahead of real time audio is sent, ms. */
  leadMs: number;
  now?: () => number;
  timers?: Timers;
  /** Silence (or stand-in frames) longer than this is dead air: reported, not hidden. Default 30 s. */
  deadAirMs?: number;
  /** A song giving no audio this long while the air needs it is given up. Default STALL_MS (crossfade.ts). */
  stallMs?: number;
  /** Songs start on multiples of this many samples (an MP3 frame) where it costs nothing audible: the encoder then reuses stored frames (see Crossfade). */
  frameGrid?: number | undefined;
}

/** The schedule block on air (null: the channel's own list), and the next change. */
export interface ProgrammeNow {
  block: string | null;
  next: { block: string | null; at: string } | null;
}

/** A channel's events (see Channel). */
export interface ChannelEvents {
  /** Whole MP3 frames, and the stream position of the first in seconds. */
  audio: [Buffer, number];
  track: [NowPlaying];
  skipped: [{ track: Track; reason: string }];
  'dead-air': [{ dead: boolean; song: string | null }];
  updated: [Playlist];
  status: [ChannelStatus];
  'live-start': [LiveShowRecord];
  'live-end': [LiveShowRecord];
  block: [ProgrammeNow];
  idle: [];
}
