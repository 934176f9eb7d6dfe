/** What is known about a song once it is prepared. */
export interface TrackInfo {
  /** Identity of the playlist entry (see trackKey). */
  key: string;
  source: 'file' | 'url' | 'qq' | 'live';
  title: string;
  artist?: string | undefined;
  album?: string | undefined;
  /** Its cover art in the station's picture store (see ArtStore); absent: none of its own. */
  artId?: string | undefined;
  durationMs?: number | undefined;
  /** The schedule block it plays in (its name); absent: the channel's own list. */
  block?: string | undefined;
  /** A station ID or jingle, not a song. */
  jingle?: boolean | undefined;
  /** A listener asked for it (a request on the public request route). */
  request?: boolean | undefined;
}
