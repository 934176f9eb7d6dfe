/** What is known about a song once it is prepared. */
export interface TrackInfo {
  /** Identity of the playlist entry (see trackKey). */
  key: string;
  source: 'file' | 'url' | 'qq' | 'live';
  title: string;
  artist?: string | undefined;
  album?: string | undefined;
  coverUrl?: string | undefined;
  durationMs?: number | undefined;
}
