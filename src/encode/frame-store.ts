/**
 * Where a song's MP3 frames are kept after it played, to be sent again
 * instead of encoded again (encode/splicing-encoding.ts).
 *
 * A take is what a channel sent while one song played, from the frame its
 * first sample starts (songs start on a frame boundary), and a checksum of
 * every 1152-sample block of the PCM it encoded. A later play may send a
 * stored frame only where its own PCM has the same checksums around it, so
 * a changed gain, a different crossfade or another file under the same
 * entry is encoded afresh: what is stored can never put other audio on air.
 *
 * Files: `<id>.frames` (the frames back to back) and `<id>.index` (magic,
 * counts, the checksums, each frame's length), written under temporary
 * names and renamed, the index last: a take is whole or absent. The
 * store is bounded: past `maxBytes` the takes least recently played go
 * (a channel still sending one keeps its open file until it is done).
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';

const MAGIC = 0x53434631; // "SCF1"
/** Takes longer than this are not kept (a DJ mix of hours would hold its frames on disk for one replay). */
export const MAX_TAKE_FRAMES = 40 * 60 * 38;
/** A recorder writes its frames in blocks of this much. */
const BLOCK_BYTES = 65536;
/** The longest MP3 frame (320 kbit/s at 32 kHz, padded). */
const MAX_FRAME_BYTES = 1441;

/** A stored take, open for reading. */
export interface StoredTake {
  /** Checksums of the PCM blocks, from the song's first sample. */
  readonly sums: Int32Array;
  readonly frameCount: number;
  /** Frames [from, to), copied. */
  frames(from: number, to: number): Buffer[];
  close(): void;
}

/** A take being recorded: frames and checksums in song order. */
export interface TakeRecorder {
  readonly frameCount: number;
  readonly blockCount: number;
  addFrame(frame: Buffer): void;
  addSum(sum: number): void;
  /** Keep it (replacing any older take of the song). */
  save(): void;
  discard(): void;
}

export class FrameStore {
  /** Each take's bytes and when it was last played (ms), by its path without extension. */
  private readonly takes = new Map<string, { bytes: number; used: number }>();
  private total = 0;
  private lastUse = 0;

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly log: Logger,
  ) {
    mkdirSync(dir, { recursive: true });
    for (const name of readdirSync(dir)) {
      const m = /^([0-9a-f]{40})\.(index|frames)$/.exec(name);
      if (!m) {
        // A take whose writer died before its rename.
        if (/^[0-9a-f]{40}\.\d+\./.test(name)) rmSync(path.join(dir, name), { force: true });
        continue;
      }
      const st = statSync(path.join(dir, name));
      const base = path.join(dir, m[1]!);
      const t = this.takes.get(base) ?? { bytes: 0, used: 0 };
      t.bytes += st.size;
      t.used = Math.max(t.used, st.mtimeMs);
      this.takes.set(base, t);
      this.total += st.size;
    }
    this.evict();
  }

  /** `variant`: what makes frames differ besides the PCM (bitrate, encoder and its settings). */
  private base(key: string, variant: string): string {
    return path.join(this.dir, createHash('sha1').update(`${key}\0${variant}`).digest('hex'));
  }

  /** The song's stored take, or null (none, or unreadable: then it is encoded as if new). */
  open(key: string, variant: string): StoredTake | null {
    const base = this.base(key, variant);
    let index: Buffer;
    try {
      index = readFileSync(`${base}.index`);
    } catch {
      return null;
    }
    const now = this.useTime();
    const t = this.takes.get(base);
    if (t) t.used = now;
    try {
      utimesSync(`${base}.index`, now / 1000, now / 1000);
    } catch {
      // Read-only or gone: it is only the eviction order.
    }
    try {
      return openTake(base, index);
    } catch (err) {
      this.log.warn({ file: `${base}.index`, err: (err as Error).message }, 'stored frames unreadable; the song is encoded afresh');
      return null;
    }
  }

  record(key: string, variant: string): TakeRecorder {
    const base = this.base(key, variant);
    const tmp = `${base}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    const fd = openSync(`${tmp}.frames`, 'w');
    const lengths: number[] = [];
    const sums: number[] = [];
    // Written in blocks of ~64 KB (4 s at 128 kbit/s): a write per frame cost a first play ~0.05 % of a core.
    // Frames are copied into one block rather than held: a frame kept 4 s outlives the young generation.
    const block = Buffer.allocUnsafeSlow(BLOCK_BYTES + MAX_FRAME_BYTES);
    let pendingBytes = 0;
    const flush = (): void => {
      if (pendingBytes === 0) return;
      writeSync(fd, block, 0, pendingBytes);
      pendingBytes = 0;
    };
    let open = true;
    const close = (): void => {
      if (!open) return;
      open = false;
      closeSync(fd);
    };
    return {
      get frameCount() {
        return lengths.length;
      },
      get blockCount() {
        return sums.length;
      },
      addFrame: (frame) => {
        if (!open) return;
        if (pendingBytes + frame.length > block.length) flush();
        if (frame.length > block.length) writeSync(fd, frame);
        else pendingBytes += frame.copy(block, pendingBytes);
        lengths.push(frame.length);
        if (pendingBytes >= BLOCK_BYTES) flush();
      },
      addSum: (sum) => {
        sums.push(sum);
      },
      save: () => {
        try {
          flush();
          close();
          const index = Buffer.alloc(12 + sums.length * 4 + lengths.length * 2);
          index.writeUInt32LE(MAGIC, 0);
          index.writeUInt32LE(sums.length, 4);
          index.writeUInt32LE(lengths.length, 8);
          sums.forEach((s, i) => index.writeInt32LE(s, 12 + i * 4));
          lengths.forEach((l, i) => index.writeUInt16LE(l, 12 + sums.length * 4 + i * 2));
          const fdi = openSync(`${tmp}.index`, 'w');
          writeSync(fdi, index);
          closeSync(fdi);
          renameSync(`${tmp}.frames`, `${base}.frames`);
          renameSync(`${tmp}.index`, `${base}.index`);
          const bytes = index.length + lengths.reduce((a, b) => a + b, 0);
          this.total += bytes - (this.takes.get(base)?.bytes ?? 0);
          this.takes.set(base, { bytes, used: this.useTime() });
          this.evict();
        } catch (err) {
          close();
          this.log.warn({ dir: this.dir, err: (err as Error).message }, 'could not keep a song’s frames; it will be encoded again');
          rmSync(`${tmp}.frames`, { force: true });
          rmSync(`${tmp}.index`, { force: true });
        }
      },
      discard: () => {
        close();
        rmSync(`${tmp}.frames`, { force: true });
      },
    };
  }

  /** Now, in ms, but later than any use before: two in the same millisecond keep their order. */
  private useTime(): number {
    return (this.lastUse = Math.max(Date.now(), this.lastUse + 1));
  }

  /** Least recently played first, until under the bound. */
  private evict(): void {
    if (this.total <= this.maxBytes) return;
    const oldest = [...this.takes].sort((a, b) => a[1].used - b[1].used);
    for (const [base, t] of oldest) {
      if (this.total <= this.maxBytes) break;
      rmSync(`${base}.index`, { force: true });
      rmSync(`${base}.frames`, { force: true });
      this.takes.delete(base);
      this.total -= t.bytes;
    }
  }
}

function openTake(base: string, index: Buffer): StoredTake {
  if (index.length < 12 || index.readUInt32LE(0) !== MAGIC) throw new Error('not a frame index');
  const blocks = index.readUInt32LE(4);
  const count = index.readUInt32LE(8);
  if (index.length !== 12 + blocks * 4 + count * 2) throw new Error(`index of ${index.length} bytes for ${blocks} blocks and ${count} frames`);
  const sums = new Int32Array(blocks);
  for (let i = 0; i < blocks; i++) sums[i] = index.readInt32LE(12 + i * 4);
  const offsets = new Float64Array(count + 1);
  for (let i = 0; i < count; i++) offsets[i + 1] = offsets[i]! + index.readUInt16LE(12 + blocks * 4 + i * 2);
  const fd = openSync(`${base}.frames`, 'r');
  // Frames the index does not account for (a truncated or foreign file) would be read short mid-song: refused here instead.
  const size = fstatSync(fd).size;
  if (size !== offsets[count]) {
    closeSync(fd);
    throw new Error(`${base}.frames holds ${size} bytes; its index says ${offsets[count]}`);
  }
  let closed = false;
  return {
    sums,
    frameCount: count,
    frames(from, to) {
      const a = Math.max(0, from);
      const b = Math.min(count, to);
      if (b <= a) return [];
      const buf = Buffer.alloc(offsets[b]! - offsets[a]!);
      const got = readSync(fd, buf, 0, buf.length, offsets[a]!);
      if (got !== buf.length) throw new Error(`${base}.frames: short read`);
      const out: Buffer[] = [];
      for (let i = a; i < b; i++) out.push(buf.subarray(offsets[i]! - offsets[a]!, offsets[i + 1]! - offsets[a]!));
      return out;
    },
    close: () => {
      if (closed) return;
      closed = true;
      closeSync(fd);
    },
  };
}

/** FNV-1a over a block's 32-bit words: a checksum of 1152 stereo s16 samples. */
export function blockSum(words: Int32Array): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i]!, 0x01000193);
  // Signed, as the sums are kept (Int32Array; the same four bytes on disk as before). Returned unsigned
  // (`h >>> 0`), half the sums were above 2^31 and V8's optimized code, which had taken them for small
  // integers, deoptimized at the return: ~300 times a minute on a channel keeping frames (--trace-deopt),
  // 0.1-0.2 ms each, plus the recompiles.
  return h;
}
