import type { ArtStore } from '../acquire/art/art-store.js';
import type { ArtSize } from '../acquire/art/image.js';
import type { Playlist } from '../config/playlist.js';
import type { Channel } from '../playout/channel.js';
import type { Station } from '../playout/station.js';

/** The picture shown when neither the song, its channel nor the station has one (built in; AzuraCast's "default album art"). */
export const DEFAULT_ART_PATH = '/art/default.svg';

/** Where the station serves a picture at one size: `/art/<id>.jpg` (600 px), `/art/<id>-300.jpg`, `/art/<id>-96.jpg`. */
export function artPath(id: string, size: ArtSize = 600): string {
  return size === 600 ? `/art/${id}.jpg` : `/art/${id}-${size}.jpg`;
}

/**
 * Which picture stands for a song: its own, else its channel's (`art` in
 * the playlist), else the station's (STATION_ART), else the built-in one.
 * Paths are root-relative; each caller puts the base its reader reaches.
 */
export class ArtLinks {
  constructor(
    private readonly store: ArtStore | null,
    /** STATION_ART: the station's picture, a URL or a path. */
    private readonly stationRef?: string | undefined,
  ) {}

  path(song: { artId?: string | undefined } | null, playlist: { art?: string | undefined }, size: ArtSize = 600): string {
    const id = song?.artId ?? this.peek(playlist.art) ?? this.peek(this.stationRef);
    return id ? artPath(id, size) : DEFAULT_ART_PATH;
  }

  /** The picture's 600 px JPEG on disk, when there is one (the built-in picture is an SVG: none). */
  async file(song: { artId?: string | undefined } | null, playlist: { art?: string | undefined }): Promise<string | null> {
    const id = song?.artId ?? this.peek(playlist.art) ?? this.peek(this.stationRef);
    return id && this.store ? this.store.file(id, 600) : null;
  }

  /** Make the station's and each channel's own picture as soon as it is named, not at the first song without one. */
  watch(station: Station): void {
    const warm = (c: Channel): void => {
      this.peek(c.playlist.art);
      c.on('updated', (p: Playlist) => this.peek(p.art));
    };
    this.peek(this.stationRef);
    station.channels.forEach(warm);
    station.on('channel-added', warm);
  }

  private peek(ref: string | undefined): string | null {
    return ref && this.store ? this.store.peek(ref) : null;
  }
}
