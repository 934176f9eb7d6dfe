/**
 * ICY in-band metadata (SHOUTcast/Icecast style), both ways. Pure.
 *
 * After every `metaint` audio bytes comes one length byte N and N*16 bytes of
 * `StreamTitle='...';` padded with NUL. A block of N=0 means "unchanged".
 */

export const DEFAULT_METAINT = 16000;
/** 255 * 16: the most a length byte can announce. */
const MAX_META_BYTES = 4080;
const EMPTY_BLOCK = Buffer.from([0]);

/**
 * ICY has no escaping: a field ends at a quote, and players differ on which
 * one (the first `';`, the last, the one before `;StreamUrl='`). So no ASCII
 * quote is left inside a value: it is typeset as U+2019, which reads the
 * same to a listener, and a title can never close its field early and add
 * fields of its own (a `StreamUrl` to an attacker's page).
 */
export function icyValue(s: string): string {
  return s.replace(/'/g, '\u2019');
}

/** Build one metadata block. */
export function encodeIcyMetadata(title: string, url?: string): Buffer {
  title = icyValue(title);
  const tail = url === undefined ? '' : `StreamUrl='${icyValue(url)}';`;
  const prefix = "StreamTitle='";
  const suffix = `';${tail}`;
  const room = MAX_META_BYTES - Buffer.byteLength(prefix) - Buffer.byteLength(suffix);
  const text = Buffer.concat([Buffer.from(prefix), truncateUtf8(title, room), Buffer.from(suffix)]);
  const blocks = Math.ceil(text.length / 16);
  const out = Buffer.alloc(1 + blocks * 16);
  out[0] = blocks;
  text.copy(out, 1);
  return out;
}

/** At most `maxBytes` of UTF-8, never cutting a character in half. */
function truncateUtf8(s: string, maxBytes: number): Buffer {
  const b = Buffer.from(s, 'utf8');
  if (b.length <= maxBytes) return b;
  let end = Math.max(0, maxBytes);
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end -= 1;
  return b.subarray(0, end);
}

/**
 * Per-listener interleaver: counts audio bytes from the first byte sent to
 * that listener and inserts a block every `metaint` bytes, carrying the
 * current title once after each change and an empty block otherwise.
 */
export class IcyWriter {
  private untilMeta: number;
  private pendingBlock: Buffer | null = null;

  constructor(readonly metaint: number = DEFAULT_METAINT) {
    this.untilMeta = metaint;
  }

  /** The title to announce at the next block boundary. */
  setTitle(title: string, url?: string): void {
    this.pendingBlock = encodeIcyMetadata(title, url);
  }

  /** Audio bytes in; the same bytes with metadata blocks spliced in. */
  write(audio: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let pos = 0;
    while (audio.length - pos >= this.untilMeta) {
      out.push(audio.subarray(pos, pos + this.untilMeta));
      pos += this.untilMeta;
      out.push(this.pendingBlock ?? EMPTY_BLOCK);
      this.pendingBlock = null;
      this.untilMeta = this.metaint;
    }
    if (pos < audio.length) {
      out.push(audio.subarray(pos));
      this.untilMeta -= audio.length - pos;
    }
    return out;
  }
}

export interface IcyEvent {
  /** Audio bytes received before this metadata block, counted from the start. */
  audioOffset: number;
  /** Raw text of the block without NUL padding. */
  raw: string;
  /** StreamTitle's value, when present. */
  title: string | undefined;
}

/** Parse `StreamTitle='...';StreamUrl='...';`. Values may contain quotes and `;`. */
export function parseIcyText(raw: string): { title?: string; url?: string } {
  const out: { title?: string; url?: string } = {};
  const titleStart = raw.indexOf("StreamTitle='");
  if (titleStart >= 0) {
    const from = titleStart + "StreamTitle='".length;
    // The value ends at the last `';` before StreamUrl (or the end), since quotes are not escaped.
    const urlAt = raw.indexOf(";StreamUrl='", from);
    const end = urlAt >= 0 ? raw.lastIndexOf("'", urlAt) : raw.lastIndexOf("';");
    out.title = raw.slice(from, end >= from ? end : raw.length);
  }
  const urlStart = raw.indexOf("StreamUrl='");
  if (urlStart >= 0) {
    const from = urlStart + "StreamUrl='".length;
    const end = raw.lastIndexOf("';");
    out.url = raw.slice(from, end >= from ? end : raw.length);
  }
  return out;
}

/**
 * Listener side: splits a received ICY stream into audio and metadata, as
 * a player does. Feed it in chunks of any size.
 */
export class IcyReader {
  private untilMeta: number;
  private metaRemaining = -1; // -1: expecting audio; >=0: inside a block
  private meta: Buffer[] = [];
  private audioBytes = 0;

  constructor(
    readonly metaint: number,
    private readonly onAudio: (audio: Buffer) => void,
    private readonly onMeta: (ev: IcyEvent) => void,
  ) {
    this.untilMeta = metaint;
  }

  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.metaRemaining === -1) {
        const n = Math.min(this.untilMeta, chunk.length - pos);
        if (n > 0) {
          this.onAudio(chunk.subarray(pos, pos + n));
          this.audioBytes += n;
          this.untilMeta -= n;
          pos += n;
        }
        if (this.untilMeta === 0) {
          if (pos >= chunk.length) return;
          this.metaRemaining = chunk[pos]! * 16;
          pos += 1;
          this.untilMeta = this.metaint;
          if (this.metaRemaining === 0) this.metaRemaining = -1;
        }
      } else {
        const n = Math.min(this.metaRemaining, chunk.length - pos);
        this.meta.push(chunk.subarray(pos, pos + n));
        this.metaRemaining -= n;
        pos += n;
        if (this.metaRemaining === 0) {
          const raw = Buffer.concat(this.meta).toString('utf8').replace(/\0+$/, '');
          this.meta = [];
          this.metaRemaining = -1;
          this.onMeta({ audioOffset: this.audioBytes, raw, title: parseIcyText(raw).title });
        }
      }
    }
  }
}
