/**
 * Every error sCast raises on purpose. Each has a stable `code` that logs,
 * the HTTP API and tests can match on; messages say what failed, with which
 * input, and what to do about it. The underlying error is kept in `cause`.
 */
import { redactUrl } from './redact.js';

export class ScastError extends Error {
  readonly code: string;
  /** HTTP status when the error reaches an API client. */
  readonly statusCode: number;

  constructor(code: string, message: string, options: { cause?: unknown; statusCode?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.statusCode = options.statusCode ?? 500;
  }
}

/** One problem found in a configuration source (environment or a file). */
export interface ConfigIssue {
  /** Where: an environment variable name, or a JSON path like `tracks[3].path`. */
  where: string;
  message: string;
  /** The offending value, when showing it is safe. */
  value?: unknown;
}

export class ConfigError extends ScastError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    const lines = issues.map((i) => `  - ${i.where}: ${i.message}`);
    super('SCAST_CONFIG_INVALID', `invalid configuration:\n${lines.join('\n')}`);
    this.issues = issues;
  }
}

export class PlaylistError extends ScastError {
  readonly file: string;
  readonly issues: readonly ConfigIssue[];
  constructor(file: string, issues: ConfigIssue[], options: { cause?: unknown } = {}) {
    const lines = issues.map((i) => `${file}: ${i.where || '(file)'}: ${i.message}`);
    super('SCAST_PLAYLIST_INVALID', lines.join('\n'), { ...options, statusCode: 400 });
    this.file = file;
    this.issues = issues;
  }
}

/** A file in a watched folder that is not read: not a regular file, outside the allowed folders, or too large. */
export class UnsafeFileError extends ScastError {
  readonly file: string;
  constructor(file: string, reason: string) {
    super('SCAST_UNSAFE_FILE', `${file}: ${reason}`);
    this.file = file;
  }
}

/** A header value that would break HTTP framing (CR or LF) or is not sendable. */
export class HeaderValueError extends ScastError {
  constructor(header: string, value: string) {
    super('SCAST_HEADER_VALUE', `header ${header} contains CR or LF (${JSON.stringify(value)}); remove line breaks from it`);
  }
}

export class IcecastAuthError extends ScastError {
  constructor(server: string, mount: string, user: string) {
    super(
      'SCAST_ICECAST_AUTH',
      `Icecast ${server} refused the source password for mount ${mount} (user "${user}"): ` +
        'check the password in ICECAST_URL against <source-password> in icecast.xml',
    );
  }
}

export class IcecastMountBusyError extends ScastError {
  constructor(server: string, mount: string) {
    super('SCAST_ICECAST_MOUNT_BUSY', `mount ${mount} on Icecast ${server} is in use by another source; retrying`);
  }
}

export class IcecastRefusedError extends ScastError {
  readonly status: number;
  constructor(server: string, mount: string, status: number, reason: string) {
    super('SCAST_ICECAST_REFUSED', `Icecast ${server} refused mount ${mount}: ${status} ${reason}`);
    this.status = status;
  }
}

export class IcecastConnectionError extends ScastError {
  constructor(server: string, mount: string, detail: string, options: { cause?: unknown } = {}) {
    super('SCAST_ICECAST_CONNECTION', `connection to Icecast ${server} for mount ${mount} failed: ${detail}`, options);
  }
}

export class IcecastWriteTimeoutError extends ScastError {
  constructor(server: string, mount: string, ms: number) {
    super('SCAST_ICECAST_WRITE_TIMEOUT', `Icecast ${server} stopped reading mount ${mount} for ${ms} ms; dropping the connection and reconnecting`);
  }
}

export class MetadataUpdateError extends ScastError {
  constructor(server: string, mount: string, detail: string, options: { cause?: unknown } = {}) {
    super('SCAST_ICECAST_METADATA', `title update for ${mount} on Icecast ${server} failed: ${detail}`, options);
  }
}

/** The step of preparing a song at which it failed; logged with the reason. */
export type TrackStep = 'resolve' | 'download' | 'probe' | 'decode';

export class TrackUnavailableError extends ScastError {
  readonly step: TrackStep;
  readonly track: string;
  constructor(track: string, step: TrackStep, reason: string, options: { cause?: unknown } = {}) {
    super('SCAST_TRACK_UNAVAILABLE', `song ${track} skipped at ${step}: ${reason}`, options);
    this.step = step;
    this.track = track;
  }
}

export class DownloadError extends ScastError {
  readonly url: string;
  /** False for answers that will not change on retry (404, HTML page, too large). */
  readonly retryable: boolean;
  readonly status: number | undefined;
  constructor(url: string, reason: string, opts: { retryable: boolean; status?: number; cause?: unknown }) {
    super('SCAST_DOWNLOAD_FAILED', `download of ${redactUrl(url)} failed: ${reason}`, { cause: opts.cause });
    this.url = url;
    this.retryable = opts.retryable;
    this.status = opts.status;
  }
}

/** A media host that resolves to a loopback, private or other special address the operator did not allow. */
export class AddressRefusedError extends ScastError {
  constructor(host: string, address: string) {
    super(
      'SCAST_ADDRESS_REFUSED',
      `${host} is at ${address}, a loopback, private or special address: media is not fetched from there ` +
        'unless MEDIA_ALLOW_HOSTS lists the host or its network',
    );
  }
}

export class FfmpegError extends ScastError {
  constructor(what: string, detail: string, options: { cause?: unknown } = {}) {
    super('SCAST_FFMPEG', `ffmpeg ${what} failed: ${detail}`, options);
  }
}

export class FfmpegNotFoundError extends ScastError {
  constructor(tried: string[]) {
    super(
      'SCAST_FFMPEG_NOT_FOUND',
      `no usable ffmpeg found (tried ${tried.join(', ')}): install ffmpeg (apt-get install ffmpeg), ` +
        'set FFMPEG_PATH, or reinstall npm dependencies so @ffmpeg-installer/ffmpeg is present',
    );
  }
}

export class EncoderError extends ScastError {
  constructor(tool: string, detail: string, options: { cause?: unknown } = {}) {
    super('SCAST_ENCODER', `encoder (${tool}) failed: ${detail}`, options);
  }
}

export class EncoderNotFoundError extends ScastError {
  constructor(detail: string, variable = 'MP3_ENCODER') {
    super('SCAST_ENCODER_NOT_FOUND', `${variable}: ${detail}`);
  }
}

export class NotFoundError extends ScastError {
  constructor(what: string) {
    super('SCAST_NOT_FOUND', `${what} not found`, { statusCode: 404 });
  }
}

export class UnauthorizedError extends ScastError {
  constructor(message: string) {
    super('SCAST_UNAUTHORIZED', message, { statusCode: 401 });
  }
}

export class ForbiddenError extends ScastError {
  constructor(message: string) {
    super('SCAST_FORBIDDEN', message, { statusCode: 403 });
  }
}

/** An api-proxy answer the streamer could not use; `code` is the proxy's own error code when it sent one. */
export class ApiProxyError extends ScastError {
  constructor(code: string, message: string, status: number) {
    super(code, `api-proxy: ${message}`, { statusCode: status });
  }
}

/** Turn anything thrown into a short, loggable reason string. */
export function reasonOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

const SHORTAGE_CODES = new Set(['EMFILE', 'ENFILE', 'EAGAIN', 'ENOMEM', 'ENOSPC']);
const SHORTAGE_TEXT = /\b(EMFILE|ENFILE|EAGAIN|ENOMEM)\b|Too many open files|Resource temporarily unavailable|Cannot allocate memory/;

/**
 * Whether `err` (or any cause under it) is the station running short of
 * something for a while (descriptors, processes, memory) rather than
 * anything wrong with the song: such a failure is retried in seconds, and
 * never counts the song as broken.
 */
export function isResourceShortage(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof WatchdogError) return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && SHORTAGE_CODES.has(code)) return true;
    if (SHORTAGE_TEXT.test(reasonOf(e))) return true;
  }
  return false;
}

/** A step that should take seconds took far longer (a stuck process, a starved thread pool): given up on, and tried again soon. */
export class WatchdogError extends ScastError {
  constructor(what: string, ms: number) {
    super('SCAST_WATCHDOG', `${what} took over ${Math.round(ms / 1000)} s; given up on, to be tried again`);
  }
}

/** A music-service song the caller may not play (VIP-only, paid, delisted, geo-blocked): an answer, not a fault. */
export class SongNotPlayableError extends ScastError {
  readonly result: number | undefined;
  readonly why: string | undefined;
  /** @param why what the service said, when it said more than an empty play URL. */
  constructor(mid: string, result?: number, why?: string) {
    super(
      'SCAST_SONG_NOT_PLAYABLE',
      why
        ? `song ${mid} is not playable for this caller: ${why}`
        : `song ${mid} is not playable for this caller (empty play URL${result === undefined ? '' : `, result ${result}`}): VIP-only, paid, delisted or region-blocked`,
      { statusCode: 403 },
    );
    this.result = result;
    this.why = why;
  }
}

export class SongNotFoundError extends ScastError {
  constructor(what: string) {
    super('SCAST_SONG_NOT_FOUND', `${what} not found at the music service`, { statusCode: 404 });
  }
}

export class UpstreamError extends ScastError {
  constructor(detail: string, options: { cause?: unknown } = {}) {
    super('SCAST_UPSTREAM_FAILED', `music service failed: ${detail}`, { ...options, statusCode: 502 });
  }
}

/** The music service refused the request itself: its signature (code 2000) or its login (code 1000). Not retried as-is. */
export class UpstreamCredentialError extends ScastError {
  readonly kind: 'signature' | 'credential';
  constructor(kind: 'signature' | 'credential', detail: string) {
    super(kind === 'signature' ? 'SCAST_UPSTREAM_SIGNATURE' : 'SCAST_UPSTREAM_CREDENTIAL', `music service refused the request: ${detail}`, { statusCode: 502 });
    this.kind = kind;
  }
}

export class UpstreamTimeoutError extends ScastError {
  constructor(ms: number) {
    super('SCAST_UPSTREAM_TIMEOUT', `music service did not answer within ${ms} ms`, { statusCode: 504 });
  }
}

export class RateLimitedError extends ScastError {
  constructor(detail: string) {
    super('SCAST_RATE_LIMITED', `rate limited: ${detail}; retry later`, { statusCode: 429 });
  }
}

/** An answer bigger than the reader will hold (a hostile or broken server). */
export class ResponseTooLargeError extends ScastError {
  constructor(what: string, bytes: number, max: number) {
    super('SCAST_RESPONSE_TOO_LARGE', `${what} answered with over ${max} bytes (${bytes} so far); refused`, { statusCode: 502 });
  }
}

/** The control queue of a channel is full: an answer (429), not a fault. */
export class QueueFullError extends ScastError {
  constructor(channel: string, max: number) {
    super('SCAST_QUEUE_FULL', `the queue of channel ${channel} already holds ${max} songs; wait for some to play`, { statusCode: 429 });
  }
}

export class BadRequestError extends ScastError {
  readonly issues: readonly ConfigIssue[];
  constructor(message: string, issues: ConfigIssue[] = []) {
    super('SCAST_BAD_REQUEST', message, { statusCode: 400 });
    this.issues = issues;
  }
}

/**
 * An error as both services answer it over HTTP: `{"error":{"code","message"}}`
 * (with `issues` for a bad request). A ScastError's message is written for
 * the caller and goes out as it is; anything else at 5xx is a bug whose
 * message may name internals, so the caller gets "internal error" and the
 * log gets the rest (`logIt`).
 */
export function errorResponse(err: Error & { statusCode?: number }): {
  status: number;
  body: { error: { code: string; message: string; issues?: unknown } };
  logIt: boolean;
} {
  const known = err instanceof ScastError;
  const status = known ? err.statusCode : (err.statusCode ?? 500);
  const code = known ? err.code : status < 500 ? 'SCAST_BAD_REQUEST' : 'SCAST_INTERNAL';
  const body: { error: { code: string; message: string; issues?: unknown } } = {
    error: { code, message: !known && status >= 500 ? 'internal error' : err.message },
  };
  if (err instanceof BadRequestError) body.error.issues = err.issues;
  return { status, body, logIt: status >= 500 && !known };
}
