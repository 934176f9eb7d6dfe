/**
 * A FIFO of bytes in one buffer that is reused: what a decoder has read
 * ahead. Chunks pushed are copied in and can be collected at once.
 *
 * Why not keep the chunks: a channel reads its song on air a few seconds
 * ahead (the crossfade needs to know where it ends), so every 64 KiB chunk
 * from ffmpeg lived long enough to be promoted out of V8's young
 * generation, and the old generation grew by the decode rate, 176 KB/s a
 * channel: with ten channels V8 ran a full mark-compact every 1.5-3 s
 * (~16 ms each, ~0.5 % of a core; docs/architecture.md, "Few full
 * collections"). One buffer per song is promoted once.
 */
export class ByteQueue {
  private buf: Buffer;
  private start = 0;
  private end = 0;

  constructor(initialBytes = 128 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  get length(): number {
    return this.end - this.start;
  }

  push(chunk: Buffer): void {
    const n = chunk.length;
    if (this.end + n > this.buf.length) this.makeRoom(n);
    chunk.copy(this.buf, this.end);
    this.end += n;
  }

  /** The first `n` bytes, as a view: valid until the next push. */
  peek(n: number): Buffer {
    return this.buf.subarray(this.start, this.start + Math.min(n, this.length));
  }

  /** Forget the first `n` bytes. */
  drop(n: number): void {
    this.start += Math.min(n, this.length);
    if (this.start === this.end) this.start = this.end = 0;
  }

  /** Everything queued, as a view: valid until the next push. */
  all(): Buffer {
    return this.buf.subarray(this.start, this.end);
  }

  clear(): void {
    this.start = this.end = 0;
    this.buf = Buffer.allocUnsafe(0);
  }

  /** Move what is queued to the front; grow by half (or to fit) when that is not room enough. */
  private makeRoom(n: number): void {
    const queued = this.length;
    if (queued + n > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(queued + n, Math.ceil(this.buf.length * 1.5)));
      this.buf.copy(grown, 0, this.start, this.end);
      this.buf = grown;
    } else {
      // copyWithin is a memmove; copy() onto the same buffer may clone the source first.
      this.buf.copyWithin(0, this.start, this.end);
    }
    this.start = 0;
    this.end = queued;
  }
}
