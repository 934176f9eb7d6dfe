/**
 * The Icecast source handshake, as bytes: the request a source sends and the
 * parser for what the server answers. Pure; the socket lives in source-client.ts.
 * Facts behind it: shared/reference/icecast-source-protocol.md (2.4.4 and 2.5).
 */
import { HeaderValueError } from '../../kernel/errors.js';

export type SourceMethod = 'PUT' | 'SOURCE';

/** What listeners and directories are told about a stream (`ice-*` headers). */
export interface StreamInfo {
  name: string;
  description?: string | undefined;
  genre?: string | undefined;
  url?: string | undefined;
  public: boolean;
  bitrateKbps: number;
  sampleRate: number;
  channels: number;
  /** The stream's media type. Default audio/mpeg. */
  contentType?: string | undefined;
}

/** An Ogg stream carries its titles in its own headers (chained streams), never in ICY blocks. */
export function isOgg(info: Pick<StreamInfo, 'contentType'>): boolean {
  return info.contentType === 'audio/ogg';
}

export interface SourceRequest {
  method: SourceMethod;
  mount: string;
  /** `host:port` as the Host header. */
  host: string;
  user: string;
  password: string;
  userAgent: string;
  info: StreamInfo;
  /** Titles go in-band (`icy-metaint`): a block after every this many audio bytes. */
  metaint?: number | undefined;
}

/** Icecast 2.4 silently closes on request headers of 4096 bytes or more. */
export const MAX_REQUEST_BYTES = 4095;
/** Longest `ice-*` value sent; longer descriptions are cut, not refused. */
const MAX_ICE_VALUE_BYTES = 1024;

function checkValue(header: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new HeaderValueError(header, value);
  const b = Buffer.from(value, 'utf8');
  if (b.length <= MAX_ICE_VALUE_BYTES) return value;
  let end = MAX_ICE_VALUE_BYTES;
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end -= 1;
  return b.subarray(0, end).toString('utf8');
}

/**
 * The handshake request. PUT carries `Expect: 100-continue` because Icecast
 * 2.5 answers a bare PUT with nothing until the source ends. Neither
 * Content-Length (2.5 would end the source after that many bytes) nor chunked
 * encoding (2.4 would put the chunk framing into the audio) is sent.
 */
export function buildSourceRequest(req: SourceRequest): Buffer {
  if (!req.mount.startsWith('/')) throw new HeaderValueError('mount', req.mount);
  const { info } = req;
  const headers: [string, string][] = [
    ['Host', req.host],
    ['Authorization', `Basic ${Buffer.from(`${req.user}:${req.password}`, 'utf8').toString('base64')}`],
    ['User-Agent', req.userAgent],
    ['Content-Type', info.contentType ?? 'audio/mpeg'],
  ];
  if (req.method === 'PUT') headers.push(['Expect', '100-continue']);
  headers.push(['ice-public', info.public ? '1' : '0'], ['ice-name', info.name]);
  if (info.description) headers.push(['ice-description', info.description]);
  if (info.genre) headers.push(['ice-genre', info.genre]);
  if (info.url) headers.push(['ice-url', info.url]);
  headers.push(['ice-audio-info', `ice-bitrate=${info.bitrateKbps};ice-channels=${info.channels};ice-samplerate=${info.sampleRate}`]);
  headers.push(['ice-bitrate', String(info.bitrateKbps)]);
  if (req.metaint !== undefined) headers.push(['icy-metaint', String(req.metaint)]);
  const version = req.method === 'PUT' ? 'HTTP/1.1' : 'HTTP/1.0';
  if (/[\s]/.test(req.mount)) throw new HeaderValueError('mount', req.mount);
  const lines = [`${req.method} ${req.mount} ${version}`];
  for (const [name, value] of headers) lines.push(`${name}: ${checkValue(name, value)}`);
  const bytes = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8');
  if (bytes.length > MAX_REQUEST_BYTES) {
    throw new HeaderValueError('ice-*', `request headers are ${bytes.length} bytes; Icecast accepts at most ${MAX_REQUEST_BYTES}`);
  }
  return bytes;
}

/** How a reply is to be acted on. */
export type ReplyVerdict =
  /** Start streaming. */
  | 'accepted'
  /** Wrong credentials: tell the operator, retry slowly. */
  | 'auth'
  /** Another source holds the mount (or the old connection is not cleaned up yet): retry soon. */
  | 'busy'
  /** The server's source limit is reached: retry. */
  | 'limit'
  /** Anything else: retry slowly, log the server's words. */
  | 'refused';

export interface IcecastReply {
  verdict: ReplyVerdict;
  status: number;
  /** Reason phrase and body text, for the log. */
  message: string;
}

/** Decide from the status code (never the HTTP version) and, for 403, the body text. */
export function classifyReply(status: number, text: string): ReplyVerdict {
  if (status === 100 || (status >= 200 && status < 300)) return 'accepted';
  if (status === 401) return 'auth';
  if (status === 409) return 'busy'; // Icecast 2.5
  if (status === 503) return 'limit'; // Icecast 2.5 source limit
  if (status === 403) {
    if (/mountpoint in use/i.test(text)) return 'busy'; // Icecast 2.4
    if (/too many sources/i.test(text)) return 'limit';
  }
  return 'refused';
}

interface HeadBlock {
  status: number;
  reason: string;
  contentLength: number | undefined;
  /** Bytes consumed by the status line and headers. */
  length: number;
}

function parseHead(buf: Buffer): HeadBlock | null | 'invalid' {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return buf.length > 16384 ? 'invalid' : null;
  const text = buf.subarray(0, end).toString('latin1');
  const [statusLine = '', ...headerLines] = text.split('\r\n');
  const m = /^(?:HTTP|ICE)\/\d(?:\.\d)? (\d{3})(?: (.*))?$/.exec(statusLine);
  if (!m) return 'invalid';
  let contentLength: number | undefined;
  for (const line of headerLines) {
    const cl = /^content-length:\s*(\d+)\s*$/i.exec(line);
    if (cl) contentLength = Number(cl[1]);
  }
  return { status: Number(m[1]), reason: m[2] ?? '', contentLength, length: end + 4 };
}

/**
 * Incremental reply parser. Feed it what the socket reads; it answers once
 * the reply is decidable. `100 Continue` is enough to start (2.5 sends
 * nothing more until the end); a following `200` block from 2.4, in the same
 * read or a later one, is swallowed by `swallow()`. An error status waits for
 * its body (or the connection's end) so 403 reasons can be told apart.
 */
export class ReplyParser {
  private buf: Buffer = Buffer.alloc(0);
  private head: HeadBlock | null = null;

  /** Returns the reply once known, else null (need more bytes). Throws on bytes that are not HTTP. */
  push(chunk: Buffer): IcecastReply | null {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    if (this.head === null) {
      const head = parseHead(this.buf);
      if (head === 'invalid') throw new SyntaxError(`not an HTTP reply: ${JSON.stringify(this.buf.subarray(0, 64).toString('latin1'))}`);
      if (head === null) return null;
      this.head = head;
      const { status } = head;
      if (status === 100 || (status >= 200 && status < 300)) {
        return { verdict: 'accepted', status, message: head.reason };
      }
    }
    const head = this.head;
    const body = this.buf.subarray(head.length);
    // Wait for the body (its length, or the server closing): a 403's reason is in it.
    if (head.contentLength !== undefined && body.length >= head.contentLength) return this.finish();
    return null;
  }

  /** The connection ended: decide with what arrived. */
  end(): IcecastReply | null {
    if (this.head === null) return null;
    return this.finish();
  }

  private finish(): IcecastReply {
    const head = this.head!;
    const bodyText = this.buf
      .subarray(head.length, head.length + (head.contentLength ?? this.buf.length))
      .toString('utf8')
      .replace(/<[^>]*>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
    const message = [head.reason, bodyText].filter(Boolean).join(': ');
    return { verdict: classifyReply(head.status, bodyText || head.reason), status: head.status, message };
  }
}
