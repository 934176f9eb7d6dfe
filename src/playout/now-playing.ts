import type { EventEmitter } from 'node:events';
import type { TrackInfo } from '../media/track-info.js';

export type { TrackInfo };

/** A song on air: its first audio went out at `startedAt`. */
export interface NowPlaying extends TrackInfo {
  startedAt: string;
}

/** `Artist - Title`, the form players show and Icecast's `song=` expects. */
export function displayTitle(t: Pick<TrackInfo, 'title' | 'artist'>): string {
  return t.artist ? `${t.artist} - ${t.title}` : t.title;
}

/**
 * The face a channel shows to outputs. Outputs subscribe to it; the channel
 * never knows which outputs exist.
 *
 * - `audio` (data: Buffer): whole MP3 frames, at real-time pace.
 * - `track` (np: NowPlaying): emitted right before the audio of a new song.
 */
export interface AudioSource extends EventEmitter {
  readonly id: string;
  readonly nowPlaying: NowPlaying | null;
}
