import * as z from 'zod';
import { blockSchema, checkSchedule, checkWeights, jinglesSchema, rulesSchema } from './programme.js';
import { timeZoneSchema } from './week.js';
import { artRef, displayText, entriesSchema, httpUrl } from './entries.js';

// The entries' schemas and types, where every importer of a playlist's shapes finds them.
export {
  MAX_TRACKS,
  cleanDisplayText,
  entriesSchema,
  entrySchema,
  fileTrackSchema,
  folderEntrySchema,
  isCollection,
  m3uEntrySchema,
  qqPlaylistEntrySchema,
  qqTrackSchema,
  trackKey,
  trackSchema,
  urlTrackSchema,
} from './entries.js';
export type { CollectionEntry, Entry, FileTrack, FolderEntry, M3uEntry, QqPlaylistEntry, QqTrack, Track, UrlTrack } from './entries.js';

/** MP3 CBR bitrates every MPEG-1 Layer III decoder accepts at 44.1 kHz. */
export const MP3_BITRATES = [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320] as const;

/**
 * Paths the station's own HTTP server answers; a mount there would be
 * unreachable on the built-in output, so the schema refuses it.
 */
export const RESERVED_PATHS = ['/api', '/ws', '/health', '/metrics', '/assets', '/art', '/hls', '/favicon.ico', '/index.html', '/admin'];

/** Largest playlist file read, in bytes; bigger ones are refused before parsing. */
export const MAX_PLAYLIST_BYTES = 5 * 1024 * 1024;

export const WEBHOOK_EVENTS = ['song', 'live-start', 'live-end', 'on-air', 'off-air'] as const;

/** Someone to tell when the channel changes: a URL called with a JSON POST (see docs/webhooks.md). */
export const webhookSchema = z
  .object({
    /** Where to POST. A Discord webhook URL holds its token: prefer urlEnv for those. */
    url: httpUrl.optional(),
    /** The name of an environment variable holding the URL, so no secret sits in the playlist file. */
    urlEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]{0,63}$/, 'an environment variable name (A-Z, 0-9, _)')
      .optional(),
    /** `json`: sCast's payload, signed with WEBHOOK_SECRET; `discord`: a Discord webhook message. Default json. */
    format: z.enum(['json', 'discord']).default('json'),
    /** Which changes to send. Default: all of song, live-start, live-end, on-air, off-air. */
    events: z
      .array(z.enum(WEBHOOK_EVENTS))
      .min(1, 'at least one event')
      .default([...WEBHOOK_EVENTS]),
  })
  .strict()
  .refine((w) => (w.url === undefined) !== (w.urlEnv === undefined), { message: 'give either url or urlEnv (one of them)', path: ['url'] });
export type Webhook = z.output<typeof webhookSchema>;

/** Limits on listeners' requests; `"requests": true` takes them all as given. */
export const requestLimitsSchema = z
  .object({
    /** Requests one address may make per hour. Default 3. */
    perAddressPerHour: z.number().int().min(1).max(1000).default(3),
    /** Requests waiting to play at most; more are refused until one plays. Default 5. */
    maxPending: z.number().int().min(1).max(20).default(5),
    /** Minutes before a song that played or was asked for may be asked for again. Default 60. */
    songMinutes: z.number().min(0).max(10_080).default(60),
    /** Minutes before another song by an artist just played or asked for may be asked for. Default 20. */
    artistMinutes: z.number().min(0).max(10_080).default(20),
  })
  .strict();
export type RequestLimits = z.output<typeof requestLimitsSchema>;

export const mountSchema = z
  .string()
  .max(128, 'at most 128 characters')
  .regex(/^\/[A-Za-z0-9._~\-/]*[A-Za-z0-9_~-]$/, 'must start with / and use only letters, digits and . _ ~ - /')
  .refine((m) => !m.split('/').includes('..') && !m.includes('//'), 'must not contain .. or //')
  .refine(
    (m) => !RESERVED_PATHS.some((r) => m === r || m.startsWith(`${r}/`) || m.startsWith(`${r}.`)),
    `collides with the station's own routes (${RESERVED_PATHS.join(', ')})`,
  );

/** Bitrates each rendition codec takes, kbit/s. */
const RENDITION_BITRATES = { aac: [24, 320], opus: [16, 256] } as const;

/** One more format of the channel's stream, from the same decode and mix. */
export const renditionSchema = z
  .object({
    /** `mp3`, `aac` (AAC-LC in ADTS) or `opus` (in Ogg, a new chained stream with its title at each song). */
    codec: z.enum(['mp3', 'aac', 'opus'], { error: 'codec must be "mp3", "aac" or "opus"' }),
    /** kbit/s: MP3 one of the channel's bitrates, AAC 24-320, Opus 16-256. */
    bitrate: z.number().int('must be a whole number of kbit/s'),
    /** Its own mount, on Icecast and on the built-in output (e.g. /radio.aac, /radio.opus). */
    mount: mountSchema,
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.codec === 'mp3') {
      if (!(MP3_BITRATES as readonly number[]).includes(r.bitrate))
        ctx.addIssue({ code: 'custom', path: ['bitrate'], message: `an MP3 bitrate must be one of ${MP3_BITRATES.join(', ')}` });
      return;
    }
    const [low, high] = RENDITION_BITRATES[r.codec];
    if (r.bitrate < low || r.bitrate > high)
      ctx.addIssue({ code: 'custom', path: ['bitrate'], message: `an ${r.codec === 'aac' ? 'AAC' : 'Opus'} bitrate must be ${low}-${high} kbit/s` });
  });

export type Rendition = z.output<typeof renditionSchema>;

/** One channel: a playlist file. Each field's comment is its entry in docs/playlist-fields.md (generated: `npm run docs`). */
export const playlistSchema = z
  .object({
    /** Station name shown by players (ice-name / icy-name). */
    name: displayText(200),
    /** Mount path, e.g. /radio.mp3, on Icecast and on the built-in output. */
    mount: mountSchema,
    /** What players show under the name (ice-description). */
    description: displayText(1000).optional(),
    /** Genre shown by players and directories (ice-genre). */
    genre: displayText(200).optional(),
    /** The channel's picture (an http(s) URL or a path), shown for songs with no art of their own. Default: the station's. */
    art: artRef.optional(),
    /** Station web page (ice-url). */
    url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    /** List the stream in public directories (ice-public). Default false. */
    public: z.boolean().default(false),
    /** MP3 CBR bitrate in kbit/s. Default 128. */
    bitrate: z
      .number()
      .refine((b) => (MP3_BITRATES as readonly number[]).includes(b), `must be one of ${MP3_BITRATES.join(', ')}`)
      .default(128),
    /**
     * More formats of the stream, each on its own mount: `{ "codec", "bitrate", "mount" }`,
     * at most 6. The channel's own `mount` and `bitrate` stay its first MP3.
     */
    renditions: z.array(renditionSchema).max(6, 'at most 6 renditions').default([]),
    /**
     * Push the channel to RTMP servers (YouTube, Twitch, a relay), the song's cover art as the video:
     * `{ "url": "rtmp://a.rtmp.youtube.com/live2", "keyEnv": "YOUTUBE_KEY" }`, at most 4.
     */
    rtmp: z
      .array(
        z
          .object({
            /** rtmp:// or rtmps:// URL of the server's application, without the stream key. */
            url: z
              .string()
              .max(1024, 'at most 1024 characters')
              .regex(/^rtmps?:\/\/[^\s/?#@]+\/[^\s?#]+$/, 'must be an rtmp:// or rtmps:// URL with its application path, e.g. rtmp://a.rtmp.youtube.com/live2'),
            /** The environment variable holding the stream key (the key itself never goes in a playlist). */
            keyEnv: z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/, 'must be an environment variable name, e.g. YOUTUBE_KEY'),
          })
          .strict(),
      )
      .max(4, 'at most 4 RTMP targets')
      .default([]),
    /** HLS at /hls/<channel id>/live.m3u8 from the AAC renditions (at least one). Default false. */
    hls: z.boolean().default(false),
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
    /** Songs (`file`, `url`, `qq`) and collections of songs kept elsewhere (`folder`, `m3u`, `qq-playlist`), at most 20 000 entries: see playlists.md. */
    tracks: entriesSchema,
    /** IANA time zone the schedule and the top of the hour are read in. Default UTC. */
    timezone: timeZoneSchema.default('UTC'),
    /** Station IDs and jingles between songs. */
    jingles: jinglesSchema(entriesSchema).optional(),
    /** Listeners may search the channel's songs and ask for one (AzuraCast's request routes): true, or limits. Default false. */
    requests: z
      .union([z.boolean(), z.null(), requestLimitsSchema])
      .default(false)
      // null as well as false: a parsed playlist parses again to itself.
      .transform((r) => (r === false || r === null ? null : requestLimitsSchema.parse(r === true ? {} : r))),
    /** URLs told of song changes, live shows and the channel going on or off air: see webhooks.md. */
    webhooks: z.array(webhookSchema).max(10, 'at most 10 webhooks').default([]),
    /** Rotation rules for the music (jingles are not counted). */
    rules: rulesSchema.optional(),
    /** Dayparts: other lists by weekday and time of day; outside every block the channel plays `tracks`. */
    schedule: z.array(blockSchema(entriesSchema)).max(200, 'at most 200 blocks').default([]),
  })
  .strict()
  .superRefine((p, ctx) => {
    checkSchedule(p, ctx);
    checkWeights(p, ctx);
    if (p.hls && !p.renditions.some((r) => r.codec === 'aac'))
      ctx.addIssue({
        code: 'custom',
        path: ['hls'],
        message: 'HLS is made from AAC renditions: add one, e.g. { "codec": "aac", "bitrate": 64, "mount": "/radio.aac" }',
      });
    const mounts = new Set([p.mount]);
    p.renditions.forEach((r, i) => {
      if (mounts.has(r.mount)) ctx.addIssue({ code: 'custom', path: ['renditions', i, 'mount'], message: `mount ${r.mount} is used twice in this playlist` });
      mounts.add(r.mount);
    });
  });

export type Playlist = z.output<typeof playlistSchema>;
