/**
 * What a playlist's lists hold: songs (a file, a URL, a QQ Music song) and
 * collections of songs kept elsewhere (a folder, an M3U/PLS/XSPF list, a QQ
 * Music playlist), with the text and picture rules every shown field obeys.
 * The channel around them (mount, bitrate, loudness, schedule) is
 * playlist.ts; both are described in docs/playlists.md.
 */
import * as z from 'zod';

/** Most tracks in one playlist. */
export const MAX_TRACKS = 20_000;

/** Text shown to listeners: no control characters (they would break ICY and HTTP headers). */
export const displayText = (max: number) =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(max, `at most ${max} characters`)
    .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'must not contain control characters or line breaks');

/**
 * Text from media tags or a music service made fit to show, by the same
 * rules as playlist titles: control and bidirectional-override characters
 * removed, runs of white space made one space, at most `max` characters.
 * Undefined when nothing is left.
 */
export function cleanDisplayText(s: string | undefined | null, max = 500): string | undefined {
  if (typeof s !== 'string') return undefined;
  const text = s
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .replace(/[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (!text) return undefined;
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : text;
}

/**
 * A picture: an http(s) URL, or a path relative to the playlist file inside
 * PLAYLISTS_DIR or MEDIA_DIRS (JPEG, PNG or WebP).
 */
export const artRef = z
  .string()
  .min(1, 'must not be empty')
  .max(4096)
  .refine((s) => !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(s) || /^https?:\/\/[^/\s]/i.test(s), 'must be an http(s) URL or a file path')
  .refine((s) => !/[\u0000-\u001f]/.test(s), 'must not contain control characters');

const overrides = {
  /** Shown title; default: the media's own title tag, else the file name. */
  title: displayText(500).optional(),
  artist: displayText(500).optional(),
  album: displayText(500).optional(),
  /** Cover art shown for the song (over a picture in the file or the music service's): see artRef. */
  art: artRef.optional(),
  /** dB added to the loudness normalization (or, with loudness off, to the song as it is). */
  gain: z.number().min(-30, 'at least -30 dB').max(30, 'at most 30 dB').optional(),
  /** Seconds into the file where the song starts; default: where audible audio starts (autocue). */
  cueIn: z.number().min(0, 'at least 0').max(86_400).optional(),
  /** Seconds into the file where the song ends; default: where audible audio ends (autocue). */
  cueOut: z.number().positive('more than 0').max(86_400).optional(),
  /** Seconds the song fades in over from its start; default: the playlist's crossfade (0: none). */
  fadeIn: z.number().min(0, 'at least 0').max(30, 'at most 30 s').optional(),
  /** Seconds the song fades out over before its end; default: the playlist's crossfade (0: none). */
  fadeOut: z.number().min(0, 'at least 0').max(30, 'at most 30 s').optional(),
};

export const httpUrl = z
  .string()
  .max(8192)
  .refine((u) => {
    try {
      const p = new URL(u).protocol;
      return p === 'http:' || p === 'https:';
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL');
/** Explicit cue points must leave something to play. */
const cuesInOrder = (t: { cueIn?: number | undefined; cueOut?: number | undefined }): boolean =>
  t.cueIn === undefined || t.cueOut === undefined || t.cueOut > t.cueIn;
const CUES_MESSAGE = { message: 'cueOut must be after cueIn', path: ['cueOut'] };

export const fileTrackSchema = z
  .object({
    source: z.literal('file'),
    /** Relative to the playlist file; must stay inside PLAYLISTS_DIR or MEDIA_DIRS. */
    path: z.string().min(1, 'must not be empty').max(4096),
    ...overrides,
  })
  .strict()
  .refine(cuesInOrder, CUES_MESSAGE);

export const urlTrackSchema = z
  .object({
    source: z.literal('url'),
    url: httpUrl,
    ...overrides,
  })
  .strict()
  .refine(cuesInOrder, CUES_MESSAGE);

export const qqTrackSchema = z
  .object({
    source: z.literal('qq'),
    /** QQ Music songmid, e.g. 0039MnYb0qxYhV. */
    id: z.string().regex(/^[0-9A-Za-z]{1,32}$/, 'must be a QQ Music songmid (letters and digits)'),
    ...overrides,
  })
  .strict()
  .refine(cuesInOrder, CUES_MESSAGE);

export const trackSchema = z.discriminatedUnion('source', [fileTrackSchema, urlTrackSchema, qqTrackSchema], {
  error: (issue) => (issue.code === 'invalid_union' ? 'source must be one of "file", "url", "qq"' : undefined),
});

/** What a collection passes on to each of its songs, and how often it plays among the list's other entries. */
const collectionOptions = {
  /** Cover art for every song of the collection (over pictures in the files). */
  art: overrides.art,
  gain: overrides.gain,
  fadeIn: overrides.fadeIn,
  fadeOut: overrides.fadeOut,
  /**
   * How often songs from this entry play relative to the list's other
   * entries (plain song entries together weigh 1). Default: songs are drawn
   * from one pool, each as likely as any other.
   */
  weight: z.number().positive('more than 0').max(1000, 'at most 1000').optional(),
};
/** Minutes between re-reads of a list kept elsewhere. */
const refreshMinutes = z.number().min(0.25, 'at least 0.25 (15 s); 0 would ask without pause').max(10_080, 'at most a week (10080)').default(15);

/** Every audio file under a folder (recursively), picked up and dropped as files come and go. */
export const folderEntrySchema = z
  .object({
    source: z.literal('folder'),
    /** Relative to the playlist file; must stay inside PLAYLISTS_DIR or MEDIA_DIRS. */
    path: z.string().min(1, 'must not be empty').max(4096),
    ...collectionOptions,
  })
  .strict();

/** An M3U/M3U8, PLS or XSPF playlist, a local file (`path`) or at a URL (`url`). */
export const m3uEntrySchema = z
  .object({
    source: z.literal('m3u'),
    path: z.string().min(1, 'must not be empty').max(4096).optional(),
    url: httpUrl.optional(),
    /** A URL's list is fetched again this often; a local file is re-read when it changes. */
    refreshMinutes,
    ...collectionOptions,
  })
  .strict()
  .refine((e) => (e.path === undefined) !== (e.url === undefined), { message: 'give either path or url (one of them)', path: ['path'] });

/** A QQ Music playlist, followed as its owner edits it (re-read every `refreshMinutes`). */
export const qqPlaylistEntrySchema = z
  .object({
    source: z.literal('qq-playlist'),
    /** The playlist's id (disstid), digits. */
    id: z.string().regex(/^[0-9]{1,20}$/, 'must be a QQ Music playlist id (digits)'),
    refreshMinutes,
    ...collectionOptions,
  })
  .strict();

/** One entry of a list: a song, or a collection of songs kept elsewhere. */
export const entrySchema = z.discriminatedUnion(
  'source',
  [fileTrackSchema, urlTrackSchema, qqTrackSchema, folderEntrySchema, m3uEntrySchema, qqPlaylistEntrySchema],
  {
    error: (issue) => (issue.code === 'invalid_union' ? 'source must be one of "file", "url", "qq", "folder", "m3u", "qq-playlist"' : undefined),
  },
);

/** A list of entries, bounded. */
export const entriesSchema = z.array(entrySchema).max(MAX_TRACKS, `at most ${MAX_TRACKS} tracks per playlist`);

export type Track = z.output<typeof trackSchema>;
export type FileTrack = z.output<typeof fileTrackSchema>;
export type UrlTrack = z.output<typeof urlTrackSchema>;
export type QqTrack = z.output<typeof qqTrackSchema>;
export type FolderEntry = z.output<typeof folderEntrySchema>;
export type M3uEntry = z.output<typeof m3uEntrySchema>;
export type QqPlaylistEntry = z.output<typeof qqPlaylistEntrySchema>;
/** An entry standing for many songs, kept elsewhere. */
export type CollectionEntry = FolderEntry | M3uEntry | QqPlaylistEntry;
/** One entry of a list: a song or a collection. */
export type Entry = z.output<typeof entrySchema>;

/** Whether an entry is a collection (expanded into songs as it is read), not a song. */
export function isCollection(e: Entry): e is CollectionEntry {
  return e.source === 'folder' || e.source === 'm3u' || e.source === 'qq-playlist';
}

/** A stable identity for a track entry, used to keep the play position across edits. */
export function trackKey(t: Entry): string {
  switch (t.source) {
    case 'folder':
      return `folder:${t.path}`;
    case 'm3u':
      return `m3u:${t.path ?? t.url}`;
    case 'qq-playlist':
      return `qq-playlist:${t.id}`;
    case 'file':
      return `file:${t.path}`;
    case 'url':
      return `url:${t.url}`;
    case 'qq':
      return `qq:${t.id}`;
  }
}
