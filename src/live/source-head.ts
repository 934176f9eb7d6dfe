/**
 * The Icecast source protocol as a DJ's client speaks it to us (the other
 * side of outputs/icecast/protocol.ts): a `SOURCE` or `PUT` request head,
 * then raw audio with no length and no chunking, which node's HTTP parser
 * cannot carry (it would read the audio as a next request). Pure: bytes in,
 * a parsed head or a refusal out; replies worded as Icecast 2.4 words them,
 * so every client reads them as it would Icecast's.
 */

/** Longest head read; Icecast 2.4 drops a source whose head is over 4 KiB. */
export const MAX_HEAD_BYTES = 8192;

export interface Credentials {
  user: string;
  password: string;
}

export interface SourceHead {
  method: 'SOURCE' | 'PUT';
  /** The path asked for, decoded, without a query. */
  mount: string;
  /** Header names lower-cased; values as sent (latin1 bytes as code points). */
  headers: Map<string, string>;
  credentials: Credentials | null;
  /** `Expect: 100-continue` was sent: answer 100 before 200. */
  expectContinue: boolean;
  /** The body comes in HTTP/1.1 chunks (`Transfer-Encoding: chunked`), to be decoded before the audio. */
  chunked: boolean;
}

export type HeadParse = { kind: 'more' } | { kind: 'head'; head: SourceHead; rest: Buffer } | { kind: 'bad'; reason: string };

const METHODS = ['SOURCE ', 'PUT '];

/** Whether a connection's first bytes begin a source request: true, false, or null while too few bytes have come to tell. */
export function startsSourceRequest(first: Buffer): boolean | null {
  const text = first.subarray(0, 7).toString('latin1');
  if (METHODS.some((m) => text.startsWith(m))) return true;
  if (METHODS.some((m) => m.startsWith(text))) return null;
  return false;
}

/** Parse a source request head from the bytes received so far. */
export function parseSourceHead(buf: Buffer): HeadParse {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return buf.length > MAX_HEAD_BYTES ? { kind: 'bad', reason: `request head over ${MAX_HEAD_BYTES} bytes` } : { kind: 'more' };
  if (end > MAX_HEAD_BYTES) return { kind: 'bad', reason: `request head over ${MAX_HEAD_BYTES} bytes` };
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^(SOURCE|PUT) (\/\S*) HTTP\/1\.[01]$/.exec(lines[0] ?? '');
  if (!m) return { kind: 'bad', reason: 'malformed request line' };
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0 || /[\s\x00-\x1f]/.test(line.slice(0, colon))) return { kind: 'bad', reason: 'malformed header line' };
    const name = line.slice(0, colon).toLowerCase();
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(line)) return { kind: 'bad', reason: `control characters in header ${name}` };
    headers.set(name, line.slice(colon + 1).trim());
  }
  const coding = (headers.get('transfer-encoding') ?? 'identity').toLowerCase();
  if (coding !== 'identity' && coding !== 'chunked')
    return { kind: 'bad', reason: `unsupported Transfer-Encoding ${JSON.stringify(coding.slice(0, 40))} (send the audio unframed, or chunked)` };
  let mount: string;
  try {
    mount = decodeURIComponent(m[2]!.split('?')[0]!);
  } catch {
    return { kind: 'bad', reason: 'malformed percent-encoding in the mount' };
  }
  return {
    kind: 'head',
    head: {
      method: m[1] as 'SOURCE' | 'PUT',
      mount,
      headers,
      credentials: basicCredentials(headers.get('authorization')),
      expectContinue: (headers.get('expect') ?? '').toLowerCase() === '100-continue',
      chunked: coding === 'chunked',
    },
    rest: buf.subarray(end + 4),
  };
}

/**
 * HTTP Basic credentials. Clients that can only send the user `source`
 * (old BUTT, ezstream) may give `user:password` as the password, as
 * Liquidsoap's harbor and AzuraCast accept.
 */
export function basicCredentials(header: string | undefined): Credentials | null {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header ?? '');
  if (!m) return null;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return null;
  const user = text.slice(0, colon);
  const password = text.slice(colon + 1);
  const inner = password.indexOf(':');
  if (user === 'source' && inner > 0) return { user: password.slice(0, inner), password: password.slice(inner + 1) };
  return { user, password };
}

/** What the audio is, from the Content-Type a source sends; null for what we cannot decode. */
export function inputFormatOf(contentType: string | undefined): 'mp3' | 'aac' | 'ogg' | null {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'audio/mpeg' || type === 'audio/mp3' || type === 'audio/mpeg3') return 'mp3';
  if (type === 'audio/aac' || type === 'audio/aacp' || type === 'audio/x-aac') return 'aac';
  if (type === 'application/ogg' || type === 'audio/ogg' || type === 'audio/opus' || type === 'audio/vorbis') return 'ogg';
  return null;
}

/** The reply that lets the source start sending (Icecast 2.4's words: a 100 first if asked, then 200). */
export function acceptReply(expectContinue: boolean): Buffer {
  return Buffer.from(`${expectContinue ? 'HTTP/1.1 100 Continue\r\n\r\n' : ''}HTTP/1.0 200 OK\r\n\r\n`, 'latin1');
}

/** A refusal, as Icecast gives it; `reason` goes in the body (clients log it). */
export function refuseReply(status: 401 | 403 | 400 | 404 | 503, reason: string): Buffer {
  const text = { 400: 'Bad Request', 401: 'Authentication Required', 403: 'Forbidden', 404: 'File Not Found', 503: 'Service Unavailable' }[status];
  const auth = status === 401 ? 'WWW-Authenticate: Basic realm="Icecast2 Server"\r\n' : '';
  const body = `${reason.replace(/[\r\n]/g, ' ')}\r\n`;
  return Buffer.from(
    `HTTP/1.0 ${status} ${text}\r\n${auth}Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    'utf8',
  );
}
