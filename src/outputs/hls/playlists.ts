/**
 * HLS playlists (RFC 8216) as text: the master naming each AAC rendition,
 * and each rendition's live media playlist. Pure.
 */

/** A segment as a media playlist names it. */
export interface SegmentEntry {
  /** The file name, relative to the media playlist. */
  name: string;
  /** Seconds of audio in it. */
  duration: number;
  /** When its first audio went out (EXT-X-PROGRAM-DATE-TIME). */
  startedAt: string;
}

export interface VariantEntry {
  /** The media playlist, relative to the master. */
  uri: string;
  bitrateKbps: number;
  /** RFC 6381 codec string: mp4a.40.2 for AAC-LC. */
  codecs: string;
  name: string;
}

/** The master playlist: one variant per rendition, the richest first (players start with the first). */
export function masterPlaylist(variants: readonly VariantEntry[]): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-INDEPENDENT-SEGMENTS'];
  for (const v of [...variants].sort((a, b) => b.bitrateKbps - a.bitrateKbps)) {
    // Peak: the CBR rate plus ADTS and ID3 overhead, rounded up.
    const bandwidth = Math.ceil(v.bitrateKbps * 1000 * 1.1);
    lines.push(`#EXT-X-STREAM-INF:BANDWIDTH=${bandwidth},AVERAGE-BANDWIDTH=${v.bitrateKbps * 1000},CODECS="${v.codecs}",NAME="${v.name.replace(/"/g, "'")}"`);
    lines.push(v.uri);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * A live media playlist: the latest segments, numbered from `firstSequence`.
 * TARGETDURATION is the longest segment rounded up, as the spec requires.
 */
export function mediaPlaylist(segments: readonly SegmentEntry[], firstSequence: number, targetSeconds: number): string {
  const longest = Math.max(targetSeconds, ...segments.map((s) => s.duration));
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${Math.ceil(longest)}`, `#EXT-X-MEDIA-SEQUENCE:${firstSequence}`];
  for (const s of segments) {
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${s.startedAt}`, `#EXTINF:${s.duration.toFixed(3)},`, s.name);
  }
  return `${lines.join('\n')}\n`;
}
