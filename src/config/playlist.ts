import * as z from 'zod';

/** MP3 CBR bitrates every MPEG-1 Layer III decoder accepts at 44.1 kHz. */
export const MP3_BITRATES = [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320] as const;

/**
 * Paths the station's own HTTP server answers; a mount there would be
 * unreachable on the built-in output, so the schema refuses it.
 */
export const RESERVED_PATHS = ['/api', '/ws', '/health', '/metrics', '/assets', '/favicon.ico', '/index.html', '/admin'];

/** Largest playlist file read, in bytes; bigger ones are refused before parsing. */
export const MAX_PLAYLIST_BYTES = 5 * 1024 * 1024;
/** Most tracks in one playlist. */
export const MAX_TRACKS = 20_000;

/** Text shown to listeners: no control characters (they would break ICY and HTTP headers). */
const displayText = (max: number) =>
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

const overrides = {
  /** Shown title; default: the media's own title tag, else the file name. */
  title: displayText(500).optional(),
  artist: displayText(500).optional(),
  album: displayText(500).optional(),
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

/** Explicit cue points must leave something to play. */
const cuesInOrder = (t: { cueIn?: number | undefined; cueOut?: number | undefined }): boolean => t.cueIn === undefined || t.cueOut === undefined || t.cueOut > t.cueIn;
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
    url: z
      .string()
      .max(8192)
      .refine((u) => {
        try {
          const p = new URL(u).protocol;
          return p === 'http:' || p === 'https:';
        } catch {
          return false;
        }
      }, 'must be an http:// or https:// URL'),
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
  error: (issue) =>
    issue.code === 'invalid_union' ? 'source must be one of "file", "url", "qq"' : undefined,
});

export const mountSchema = z
  .string()
  .max(128, 'at most 128 characters')
  .regex(/^\/[A-Za-z0-9._~\-/]*[A-Za-z0-9_~-]$/, 'must start with / and use only letters, digits and . _ ~ - /')
  .refine((m) => !m.split('/').includes('..') && !m.includes('//'), 'must not contain .. or //')
  .refine(
    (m) => !RESERVED_PATHS.some((r) => m === r || m.startsWith(`${r}/`) || m.startsWith(`${r}.`)),
    `collides with the station's own routes (${RESERVED_PATHS.join(', ')})`,
  );

/** One channel: a playlist file. Options and their defaults are documented in README.md. */
export const playlistSchema = z
  .object({
    /** Station name shown by players (ice-name / icy-name). */
    name: displayText(200),
    /** Mount path, e.g. /radio.mp3, on Icecast and on the built-in output. */
    mount: mountSchema,
    description: displayText(1000).optional(),
    genre: displayText(200).optional(),
    /** Station web page (ice-url). */
    url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    /** List the stream in public directories (ice-public). Default false. */
    public: z.boolean().default(false),
    /** MP3 CBR bitrate in kbit/s. Default 128. */
    bitrate: z
      .number()
      .refine((b) => (MP3_BITRATES as readonly number[]).includes(b), `must be one of ${MP3_BITRATES.join(', ')}`)
      .default(128),
    /** `sequential` or `shuffle` (no repeat before the whole list has played). Default sequential. */
    order: z.enum(['sequential', 'shuffle']).default('sequential'),
    /** Start over after the last song. Default true; false: silence once the list has played. */
    loop: z.boolean().default(true),
    /**
     * Every song brought to one integrated loudness (EBU R128), peaks held
     * under the ceiling by a limiter. Default { target: -16, ceiling: -2 };
     * false: songs play at the level they were mastered at.
     */
    loudness: z
      .union([
        z.literal(false),
        z
          .object({
            /** LUFS. Default -16 (what streaming services and podcasts use). */
            target: z.number().min(-40, 'at least -40 LUFS').max(-5, 'at most -5 LUFS').default(-16),
            /** dBFS no sample may pass. Default -2, so the MP3 stays under -1 dBTP. */
            ceiling: z.number().min(-12, 'at least -12 dBFS').max(0, 'at most 0 dBFS').default(-2),
          })
          .strict(),
      ])
      .default({ target: -16, ceiling: -2 }),
    /**
     * Seconds consecutive songs overlap, the outgoing fading out while the
     * incoming fades in (equal power). Default 0: gapless, no overlap.
     */
    crossfade: z.number().min(0, 'at least 0').max(30, 'at most 30 s').default(0),
    /** Live shows: DJs (accounts from `npm run dj`) broadcasting into this channel. */
    live: z
      .object({
        /** Record each show, exactly as it went on air, to RECORDINGS_DIR. Default false. */
        record: z.boolean().default(false),
        /** A second DJ may take over from the one on air (else refused 403, mount in use). Default false. */
        takeover: z.boolean().default(false),
        /** Seconds of silence, or of nothing received, after which the playlist takes back over. Default 5. */
        deadAirSeconds: z.number().min(1, 'at least 1 s').max(600, 'at most 600 s').default(5),
        /** dB applied to DJs' audio, before the channel's limiter. Default 0. */
        gain: z.number().min(-30, 'at least -30 dB').max(30, 'at most 30 dB').default(0),
      })
      .strict()
      .default({ record: false, takeover: false, deadAirSeconds: 5, gain: 0 }),
    tracks: z.array(trackSchema).max(MAX_TRACKS, `at most ${MAX_TRACKS} tracks per playlist`),
  })
  .strict();

export type Playlist = z.output<typeof playlistSchema>;
export type Track = z.output<typeof trackSchema>;
export type FileTrack = z.output<typeof fileTrackSchema>;
export type UrlTrack = z.output<typeof urlTrackSchema>;
export type QqTrack = z.output<typeof qqTrackSchema>;

/** A stable identity for a track entry, used to keep the play position across edits. */
export function trackKey(t: Track): string {
  switch (t.source) {
    case 'file':
      return `file:${t.path}`;
    case 'url':
      return `url:${t.url}`;
    case 'qq':
      return `qq:${t.id}`;
  }
}
