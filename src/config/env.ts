import path from 'node:path';
import * as z from 'zod';
import { ConfigError, type ConfigIssue } from '../kernel/errors.js';
import { intInRange, logFormat, logLevel, parseEnv } from '../kernel/env-schema.js';
import { invalidAllowEntries } from './address-policy.js';

/** Where an Icecast output connects, parsed from one entry of ICECAST_URL. */
export interface IcecastTarget {
  /** `host:port`, for logs and error messages (never includes the password). */
  server: string;
  host: string;
  port: number;
  user: string;
  password: string;
}

const flag = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => ['true', '1', 'yes'].includes(v));

/**
 * One `http://user:password@host:port` entry; a path is refused (mounts come
 * from playlists). Parsed by hand: a URL parser ends the authority at the
 * first `/`, so a password with `/` in it (base64 secrets have them) would
 * be read as a path; here the credentials run to the last `@`. Percent
 * escapes in the password are decoded when valid, kept as typed otherwise.
 */
export function parseIcecastUrl(entry: string, ctx: z.RefinementCtx): IcecastTarget | typeof z.NEVER {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(entry);
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `"${redact(entry)}" is not a URL; expected http://source:PASSWORD@host:8000` });
    return z.NEVER;
  }
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!;
  const at = rest.lastIndexOf('@');
  const userinfo = at >= 0 ? rest.slice(0, at) : '';
  const hostPart = at >= 0 ? rest.slice(at + 1) : rest;
  const colon = userinfo.indexOf(':');
  const problems: string[] = [];
  if (scheme !== 'http') problems.push(`scheme must be http: (got ${scheme}:)`);
  if (colon < 0 || colon === userinfo.length - 1) problems.push('the source password is missing (http://source:PASSWORD@host:port)');
  const hp = /^(\[[0-9a-fA-F:.]+\]|[^:/?#[\]]+)(?::(\d{1,5}))?\/?$/.exec(hostPart);
  if (!hp) problems.push(hostPart.includes('/') ? 'no path expected: each playlist names its own mount' : `"${hostPart}" is not host or host:port`);
  const port = hp?.[2] ? Number(hp[2]) : 8000;
  if (port < 1 || port > 65535) problems.push(`port ${port} is out of range`);
  if (problems.length > 0 || !hp) {
    ctx.addIssue({ code: 'custom', message: `${redact(entry)}: ${problems.join('; ')}` });
    return z.NEVER;
  }
  const host = hp[1]!.replace(/^\[|\]$/g, '');
  return {
    server: `${hp[1]}:${port}`,
    host,
    port,
    user: lenientDecode(userinfo.slice(0, colon) || 'source'),
    password: lenientDecode(userinfo.slice(colon + 1)),
  };
}

function lenientDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Hide the credentials of a URL before it goes into a message: everything up to the last `@`. */
function redact(entry: string): string {
  const scheme = entry.indexOf('://');
  const at = entry.lastIndexOf('@');
  if (scheme < 0 || at < scheme) return entry;
  const user = entry.slice(scheme + 3, at).split(':')[0];
  return `${entry.slice(0, scheme + 3)}${user}:***${entry.slice(at)}`;
}

/**
 * The streamer's environment. Each option's comment is its entry in
 * docs/configuration.md (generated: `npm run docs`); defaults are the schema's.
 */
export const envSchema = z.object({
  /** `http://source:PASSWORD@host:8000`; several, comma-separated, for several servers */
  ICECAST_URL: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const entries = (v ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      return entries.map((e) => parseIcecastUrl(e, ctx));
    }),
  /** `PUT` (HTTP/1.1 + `Expect: 100-continue`) or legacy `SOURCE` */
  ICECAST_METHOD: z.enum(['PUT', 'SOURCE']).default('PUT'),
  /** Icecast admin credentials: listeners are moved across a reconnect when station details change (`/admin/moveclients`); titles need none (they go in-band) */
  ICECAST_ADMIN_USER: z.string().min(1).optional(),
  /** Icecast admin credentials: listeners are moved across a reconnect when station details change (`/admin/moveclients`); titles need none (they go in-band) */
  ICECAST_ADMIN_PASSWORD: z.string().min(1).optional(),
  /** Longest wait between reconnect attempts, in ms. Default 600 (on air within 1 s of Icecast's return). */
  ICECAST_RECONNECT_MAX_MS: intInRange(100, 600_000).default(600),
  /** Folder of playlist JSON files, one channel each. Default ./playlists. */
  PLAYLISTS_DIR: z.string().min(1).default('./playlists'),
  /** Extra folders `file` tracks may live in (path-delimited). Default: only PLAYLISTS_DIR. */
  MEDIA_DIRS: z
    .string()
    .optional()
    .transform((v) => (v ?? '').split(path.delimiter).filter(Boolean)),
  /** Disk cache for downloaded media. Default ./.cache. */
  CACHE_DIR: z.string().min(1).default('./.cache'),
  /** Cache size bound in MiB; least recently used media is evicted past it. Default 2048. */
  CACHE_MAX_MB: intInRange(1, 10_000_000).default(2048),
  /** Largest single download in MiB. Default 200. */
  MAX_DOWNLOAD_MB: intInRange(1, 100_000).default(200),
  /** longest one download may take; a body slower than 64 KiB per 20 s is given up on sooner, and no 15 s may pass without data */
  DOWNLOAD_TIMEOUT_S: intInRange(10, 86_400).default(300),
  /** Largest local media file (`file` tracks) read, in MiB. Default 2048. */
  MAX_FILE_MB: intInRange(1, 1_000_000).default(2048),
  /** loopback, private and other special addresses media may still come from: host names, addresses or CIDR networks, comma-separated (`nas.local,192.168.1.0/24`). Everything else special is refused */
  MEDIA_ALLOW_HOSTS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const entries = (v ?? '')
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean);
      const bad = invalidAllowEntries(entries);
      if (bad.length > 0)
        ctx.addIssue({ code: 'custom', message: `not a host name, address or CIDR network: ${bad.map((b) => JSON.stringify(b)).join(', ')}` });
      return entries;
    }),
  /** HTTP port for the built-in listener output and the API. Default 8080; 0 picks a free port. */
  HTTP_PORT: intInRange(0, 65535).default(8080),
  /** address the HTTP server binds */
  HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  /** open connections at most, the HTTP port and `LIVE_PORT` together (listeners, page, API, feed, DJs); always kept the descriptor reserve below `ulimit -n` */
  MAX_CONNECTIONS: intInRange(1, 1_000_000).default(4096),
  /** open HTTP connections at most from one address; `0`: no cap (behind a reverse proxy, where every client has the proxy's address: cap there) */
  MAX_CONNECTIONS_PER_ADDRESS: intInRange(0, 1_000_000).default(64),
  /** descriptors never given to clients, plus 24 per channel (recomputed as channels come and go): ffmpeg, lame, downloads, Icecast and files always have them; a quarter of it may carry a burst of connections for one event-loop turn */
  FD_RESERVE: intInRange(16, 100_000).default(128),
  /** a client must send its whole request head within this */
  HTTP_HEADERS_TIMEOUT_MS: intInRange(1000, 600_000).default(10_000),
  /** An HTTP connection with no traffic for this many ms is closed (listeners always have traffic). Default 15000. */
  HTTP_IDLE_TIMEOUT_MS: intInRange(1000, 3_600_000).default(15_000),
  /** serve each channel at its mount on `HTTP_PORT` */
  BUILTIN_OUTPUT: flag.default(true),
  /** Keep each song's MP3 frames under CACHE_DIR/frames after it plays, and send them again on later plays wherever the PCM checks the same (a crossfade or a skip is encoded afresh): LAME then runs for a fraction of each song. Needs crossfades to pay off (gapless seams land songs off the frame grid). Default on. */
  REUSE_FRAMES: flag.default(true),
  /** Disk for REUSE_FRAMES' stored frames (about 1 MB per minute of song at 128 kbit/s); past it, the songs least recently played are encoded again next time. Default 2048. */
  FRAMES_MAX_MB: intInRange(1, 10_000_000).default(2048),
  /** `fatal`, `error`, `warn`, `info`, `debug`, `trace`, `silent` */
  LOG_LEVEL: logLevel,
  /** `auto`: readable lines on a terminal, JSON lines otherwise; or always `json` / `pretty`. Default auto. */
  LOG_FORMAT: logFormat,
  /** ffmpeg binary. Default: ffmpeg on PATH, else the one from @ffmpeg-installer/ffmpeg. */
  FFMPEG_PATH: z.string().min(1).optional(),
  /** ffmpeg that decodes every song when set. Decoding is a short-lived process per song: the static build starts in ~10 ms and ~13 MB, Debian's in ~60 ms and ~50 MB. The static build dates from 2018, so it only decodes the operator's own files, and only codecs it decodes sample for sample like Debian's ffmpeg 5.1 (not Vorbis, whose end trimming it ignores); see docs/security.md. */
  FFMPEG_DECODER_PATH: z.string().min(1).optional(),
  /** MP3 encoder: lib (libmp3lame loaded into the station: no encoder process), lame (LAME's own front end), ffmpeg (its libmp3lame), or auto: lib when libmp3lame loads, else lame when installed (or LAME_PATH is set), else ffmpeg. Same bytes every way; see docs/benchmarks.md for what each costs. Default auto. */
  MP3_ENCODER: z.enum(['auto', 'lib', 'lame', 'ffmpeg']).default('auto'),
  /** AAC renditions' encoder, ffmpeg's native AAC-LC either way: lib (libavcodec loaded into the station: no process), ffmpeg (a child process per rendition), or auto: lib when libavcodec 59 loads, else ffmpeg. Default auto. */
  AAC_ENCODER: z.enum(['auto', 'lib', 'ffmpeg']).default('auto'),
  /** Worker threads for MP3 encoders in the station's process (MP3_ENCODER lib): 0 keeps every encoder on the main thread, N runs them on N workers, auto uses as many as the cores (at least two) once the station has more than 32 channels, when the main thread, which mixes and paces every channel, would otherwise fill up. Default auto. */
  ENCODER_THREADS: z.union([z.literal('auto'), intInRange(0, 64)]).default('auto'),
  /** libmp3lame for MP3_ENCODER=lib. Default libmp3lame.so.0 (the system's). */
  LAME_LIBRARY: z.string().min(1).optional(),
  /** lame binary. Default: lame on PATH. */
  LAME_PATH: z.string().min(1).optional(),
  /** api-proxy base URL for `qq` tracks, e.g. http://api-proxy:8090. Unset: `qq` tracks are skipped. */
  API_PROXY_URL: z.url({ protocol: /^https?$/, error: 'expected http(s)://host:port' }).optional(),
  /** the proxy's bearer token */
  API_PROXY_TOKEN: z.string().min(1).optional(),
  /** Longest wait for one api-proxy answer, in ms; then the song is skipped. Default 10000. */
  API_PROXY_TIMEOUT_MS: intInRange(100, 120_000).default(10_000),
  /** Redis for resolved song metadata, e.g. `redis://redis:6379` */
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'expected redis://host:6379')
    .optional(),
  /** Key of the HMAC-SHA256 signature on `json` webhooks (`X-Scast-Signature`), 32 characters or more. Unset: they go unsigned (a warning at start when a channel has one). */
  WEBHOOK_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  /** The station's picture (a JPEG, PNG or WebP file, or an http(s) URL), shown for songs and channels with no art of their own. Unset: a built-in image. */
  STATION_ART: z
    .string()
    .min(1)
    .max(4096)
    .refine((s) => !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(s) || /^https?:\/\//i.test(s), 'expected a file path or an http(s) URL')
    .optional(),
  /** Bearer token for the control API (skip, queue, reload). Unset: control routes answer 403. */
  CONTROL_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  /** base URL listeners reach the station at, for listen URLs. Unset, links (API, feed snapshot, the page's play button) use the request's `Host` (and `https` when `X-Forwarded-Proto` says so), so a page opened at `http://192.168.1.20:8080/` plays from there; an Icecast on loopback is shown on that host at its own port */
  PUBLIC_URL: z
    .url({ protocol: /^https?$/ })
    .optional()
    .transform((u) => u?.replace(/\/$/, '')),
  /** nothing audible on a channel for this long is dead air: a warn line naming the song, `/health` degraded, `scast_dead_air_seconds`, a feed `status` event */
  DEAD_AIR_SECONDS: intInRange(1, 86_400).default(30),
  /** How far audio may be sent ahead of real time, in ms. It must cover two of the channel's ticks: with 500, a channel playing songs ticks every 250 ms, and every 100 ms while a DJ is coming or on air; below 500 the ticks shorten (more CPU). Default 500. */
  PACING_LEAD_MS: intInRange(0, 2000).default(500),
  /** DJ accounts (`npm run dj`): who may broadcast live into which channels. Default: djs.json beside the playlists folder. */
  DJS_FILE: z.string().min(1).optional(),
  /** a second port that takes live sources only (anything else gets 405), for operators who firewall DJs apart */
  LIVE_PORT: intInRange(0, 65535).optional(),
  /** A DJ connection that sends nothing for this many seconds is dropped (Icecast's source-timeout). Default 10. */
  LIVE_SOURCE_TIMEOUT_S: intInRange(1, 600).default(10),
  /** Where live shows are recorded (channels with `live.record`). Default ./recordings. */
  RECORDINGS_DIR: z.string().min(1).default('./recordings'),
  /** Also write each HLS channel's playlists and segments here (`<dir>/<channel id>/live.m3u8`), for a web server or CDN in front. Unset: served by the station only. */
  HLS_DIR: z.string().min(1).optional(),
});

export type Env = z.output<typeof envSchema>;

/** DJS_FILE, or djs.json beside the playlists folder (not inside: every .json there is a channel). */
export function djsFileOf(env: Pick<Env, 'DJS_FILE' | 'PLAYLISTS_DIR'>): string {
  return path.resolve(env.DJS_FILE ?? path.join(path.dirname(path.resolve(env.PLAYLISTS_DIR)), 'djs.json'));
}

/** Checks that involve more than one variable. */
function crossChecks(env: Env): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (env.API_PROXY_URL && !env.API_PROXY_TOKEN) issues.push({ where: 'API_PROXY_TOKEN', message: 'required when API_PROXY_URL is set' });
  if (Boolean(env.ICECAST_ADMIN_USER) !== Boolean(env.ICECAST_ADMIN_PASSWORD)) {
    issues.push({
      where: env.ICECAST_ADMIN_USER ? 'ICECAST_ADMIN_PASSWORD' : 'ICECAST_ADMIN_USER',
      message: 'set both ICECAST_ADMIN_USER and ICECAST_ADMIN_PASSWORD, or neither',
    });
  }
  return issues;
}

/** Validate the environment once, reporting every invalid variable together. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Readonly<Env> {
  const env = parseEnv(envSchema, source);
  const issues = crossChecks(env);
  if (issues.length > 0) throw new ConfigError(issues);
  return Object.freeze(env);
}
