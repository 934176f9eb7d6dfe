/**
 * HTTP/1.1 chunked transfer coding, decoded as bytes arrive: a PUT source
 * may frame its audio this way (Icecast 2.4 decodes it), and reading the
 * frames as audio would put their size lines on air as noise. Pure: bytes
 * in, payload out; a malformed frame sets `error` and nothing more is
 * given out.
 */
const MAX_LINE = 1024;
/** Trailer lines after the last chunk: a source has nothing to say there, so a few suffice. */
const MAX_TRAILER_LINES = 32;

type State = 'size' | 'data' | 'data-end' | 'trailer' | 'done';

export class ChunkedDecoder {
  /** Why the body is not valid chunked coding; null while it is. */
  error: string | null = null;
  private state: State = 'size';
  private line = '';
  private left = 0;
  private trailerLines = 0;

  /** The last chunk (size 0) and its trailer have arrived: the body is complete. */
  get done(): boolean {
    return this.state === 'done';
  }

  /** The payload carried by `buf`. */
  push(buf: Buffer): Buffer {
    const out: Buffer[] = [];
    let i = 0;
    while (i < buf.length && this.error === null && this.state !== 'done') {
      if (this.state === 'data') {
        const n = Math.min(this.left, buf.length - i);
        out.push(buf.subarray(i, i + n));
        i += n;
        this.left -= n;
        if (this.left === 0) this.state = 'data-end';
        continue;
      }
      const nl = buf.indexOf(0x0a, i);
      const end = nl < 0 ? buf.length : nl;
      this.line += buf.subarray(i, end).toString('latin1');
      i = end + (nl < 0 ? 0 : 1);
      if (this.line.length > MAX_LINE) this.error = `a chunk line over ${MAX_LINE} bytes`;
      else if (nl >= 0) this.lineDone(this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line);
    }
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  private lineDone(line: string): void {
    this.line = '';
    if (this.state === 'data-end') {
      if (line !== '') this.error = 'a chunk is longer than its size line says';
      else this.state = 'size';
    } else if (this.state === 'size') {
      const m = /^([0-9A-Fa-f]{1,8})[ \t]*(;.*)?$/.exec(line);
      if (!m) {
        this.error = `not a chunk size line: ${JSON.stringify(line.slice(0, 40))}`;
        return;
      }
      this.left = parseInt(m[1]!, 16);
      this.state = this.left === 0 ? 'trailer' : 'data';
    } else if (this.state === 'trailer') {
      if (line === '') this.state = 'done';
      else if (++this.trailerLines > MAX_TRAILER_LINES) this.error = `a trailer of more than ${MAX_TRAILER_LINES} lines`;
    }
  }
}
