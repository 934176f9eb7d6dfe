import type { EventEmitter } from 'node:events';
import type { TrackInfo } from '../acquire/track-info.js';

export type { TrackInfo };

/** A song on air: its first audio went out at `startedAt`. */
export interface NowPlaying extends TrackInfo {
  startedAt: string;
  /**
   * Seconds into the channel's stream (audio sent since it started) where
   * the song's first frame is: a listener who knows where its own stream
   * began (see ListenerHub.startOf) shows the title as it hears the seam.
   */
  streamPos?: number;
}

/** `Artist - Title`, the form players show and Icecast's `song=` expects. */
export function displayTitle(t: Pick<TrackInfo, 'title' | 'artist'>): string {
  return t.artist ? `${t.artist} - ${t.title}` : t.title;
}

/**
 * The face a channel shows to outputs. Outputs subscribe to it; the channel
 * never knows which outputs exist.
 *
 * - `audio` (data: Buffer, streamPos: number): whole MP3 frames, at real-time pace, and the stream position of the first in seconds.
 * - `track` (np: NowPlaying): emitted right before the audio of a new song.
 */
export interface AudioSource extends EventEmitter {
  readonly id: string;
  readonly nowPlaying: NowPlaying | null;
  /**
   * An Ogg stream's current header pages (see Rendition), which whoever
   * joins must get first; it emits `stream-start` right before new ones go
   * out. Absent for MP3 and AAC, whose frames stand alone.
   */
  readonly headers?: Buffer | null;
}

/**
 * Whether `next` going on air after `before` changes the schedule block on
 * air (null: the channel's own list). A live show belongs to no block: the
 * block heard after one (or first at start) is announced afresh.
 */
export function blockChange(before: NowPlaying | null, next: TrackInfo): { block: string | null } | null {
  if (next.source === 'live') return null;
  const was = before && before.source !== 'live' ? (before.block ?? null) : undefined;
  const block = next.block ?? null;
  return block === was ? null : { block };
}
