import path from 'node:path';
import * as z from 'zod';
import { ConfigError, type ConfigIssue } from '../errors.js';

/** Where an Icecast output connects, parsed from one entry of ICECAST_URL. */
export interface IcecastTarget {
  /** `host:port`, for logs and error messages (never includes the password). */
  server: string;
  host: string;
  port: number;
  user: string;
  password: string;
}

const intInRange = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `expected a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `expected at least ${min}`).max(max, `expected at most ${max}`));

const flag = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => ['true', '1', 'yes'].includes(v));

/** One `http://user:password@host:port` entry; a path is refused (mounts come from playlists). */
function parseIcecastUrl(entry: string, ctx: z.RefinementCtx): IcecastTarget | typeof z.NEVER {
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    ctx.addIssue({ code: 'custom', message: `"${redact(entry)}" is not a URL; expected http://source:PASSWORD@host:8000` });
    return z.NEVER;
  }
  const problems: string[] = [];
  if (url.protocol !== 'http:') problems.push(`scheme must be http: (got ${url.protocol})`);
  if (!url.password) problems.push('the source password is missing (http://source:PASSWORD@host:port)');
  if (url.pathname !== '/' && url.pathname !== '') problems.push('no path expected: each playlist names its own mount');
  if (problems.length > 0) {
    ctx.addIssue({ code: 'custom', message: `${redact(entry)}: ${problems.join('; ')}` });
    return z.NEVER;
  }
  const port = url.port ? Number(url.port) : 8000;
  return {
    server: `${url.hostname}:${port}`,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port,
    user: decodeURIComponent(url.username || 'source'),
    password: decodeURIComponent(url.password),
  };
}

/** Hide the password of a URL before it goes into a message. */
function redact(entry: string): string {
  return entry.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}

/**
 * The streamer's environment. Each option is documented with its default;
 * README.md carries the same table.
 */
export const envSchema = z.object({
  /** Comma-separated Icecast servers, `http://source:PASSWORD@host:8000`. Unset: no Icecast output. */
  ICECAST_URL: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const entries = (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      return entries.map((e) => parseIcecastUrl(e, ctx));
    }),
  /** `PUT` (HTTP/1.1, Icecast >= 2.4) or `SOURCE` (legacy, as libshout). Default PUT. */
  ICECAST_METHOD: z.enum(['PUT', 'SOURCE']).default('PUT'),
  /** Admin user for title updates. Unset: the source credentials are used. */
  ICECAST_ADMIN_USER: z.string().min(1).optional(),
  /** Admin password for title updates. */
  ICECAST_ADMIN_PASSWORD: z.string().min(1).optional(),
  /** Longest wait between reconnect attempts, in ms. Default 600 (on air within 1 s of Icecast's return). */
  ICECAST_RECONNECT_MAX_MS: intInRange(100, 600_000).default(600),
  /** Folder of playlist JSON files, one channel each. Default ./playlists. */
  PLAYLISTS_DIR: z.string().min(1).default('./playlists'),
  /** Extra folders `file` tracks may live in (path-delimited). Default: only PLAYLISTS_DIR. */
  MEDIA_DIRS: z.string().optional().transform((v) => (v ?? '').split(path.delimiter).filter(Boolean)),
  /** Disk cache for downloaded media. Default ./.cache. */
  CACHE_DIR: z.string().min(1).default('./.cache'),
  /** Cache size bound in MiB; least recently used media is evicted past it. Default 2048. */
  CACHE_MAX_MB: intInRange(1, 10_000_000).default(2048),
  /** Largest single download in MiB. Default 200. */
  MAX_DOWNLOAD_MB: intInRange(1, 100_000).default(200),
  /** HTTP port for the built-in listener output and the API. Default 8080; 0 picks a free port. */
  HTTP_PORT: intInRange(0, 65535).default(8080),
  /** Address the HTTP server binds. Default 0.0.0.0. */
  HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  /** Serve each channel at its mount on the HTTP server. Default true. */
  BUILTIN_OUTPUT: flag.default(true),
  /** pino level: fatal, error, warn, info, debug, trace, silent. Default info. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** ffmpeg binary. Default: ffmpeg on PATH, else the one from @ffmpeg-installer/ffmpeg. */
  FFMPEG_PATH: z.string().min(1).optional(),
  /** ffmpeg for decoding songs. Default: the one from @ffmpeg-installer/ffmpeg if installed (fast start), else FFMPEG_PATH's. */
  FFMPEG_DECODER_PATH: z.string().min(1).optional(),
  /** MP3 encoder: lame (LAME's own front end), ffmpeg (its libmp3lame), or auto: lame when installed. Same bytes either way; lame costs less. Default auto. */
  MP3_ENCODER: z.enum(['auto', 'lame', 'ffmpeg']).default('auto'),
  /** lame binary. Default: lame on PATH. */
  LAME_PATH: z.string().min(1).optional(),
  /** api-proxy base URL for `qq` tracks, e.g. http://api-proxy:8090. Unset: `qq` tracks are skipped. */
  API_PROXY_URL: z.url({ protocol: /^https?$/, error: 'expected http(s)://host:port' }).optional(),
  /** Bearer token for api-proxy. */
  API_PROXY_TOKEN: z.string().min(1).optional(),
  /** Longest wait for one api-proxy answer, in ms; then the song is skipped. Default 10000. */
  API_PROXY_TIMEOUT_MS: intInRange(100, 120_000).default(10_000),
  /** Redis for resolved song metadata. Unset: kept in memory. */
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'expected redis://host:6379').optional(),
  /** Bearer token for the control API (skip, queue, reload). Unset: control routes answer 403. */
  CONTROL_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  /** Base URL listeners reach this server at, for listen URLs (e.g. https://radio.example.org). Default: from HTTP_HOST and the port. */
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional().transform((u) => u?.replace(/\/$/, '')),
  /** How far audio may be sent ahead of real time, in ms. Default 250. */
  PACING_LEAD_MS: intInRange(0, 2000).default(250),
});

export type Env = z.output<typeof envSchema>;

/** Checks that involve more than one variable. */
function crossChecks(env: Env): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (env.API_PROXY_URL && !env.API_PROXY_TOKEN) issues.push({ where: 'API_PROXY_TOKEN', message: 'required when API_PROXY_URL is set' });
  if (Boolean(env.ICECAST_ADMIN_USER) !== Boolean(env.ICECAST_ADMIN_PASSWORD)) {
    issues.push({ where: env.ICECAST_ADMIN_USER ? 'ICECAST_ADMIN_PASSWORD' : 'ICECAST_ADMIN_USER', message: 'set both ICECAST_ADMIN_USER and ICECAST_ADMIN_PASSWORD, or neither' });
  }
  return issues;
}

/** Every issue of a zod parse, as `where: message` pairs. */
export function zodIssues(error: z.ZodError, prefix = ''): ConfigIssue[] {
  return error.issues.map((issue) => ({
    where: prefix + formatPath(issue.path),
    message: issue.message,
  }));
}

/** `['tracks', 3, 'path']` -> `tracks[3].path`. */
export function formatPath(p: readonly PropertyKey[]): string {
  let out = '';
  for (const key of p) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** Validate the environment once, reporting every invalid variable together. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Readonly<Env> {
  // Empty strings count as unset, as in most shells' `VAR=` usage.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) throw new ConfigError(zodIssues(parsed.error));
  const issues = crossChecks(parsed.data);
  if (issues.length > 0) throw new ConfigError(issues);
  return Object.freeze(parsed.data);
}
