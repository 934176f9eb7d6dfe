/**
 * Ogg pages and the Opus headers that open an Ogg Opus stream (RFC 3533,
 * RFC 7845). Pure: values in, bytes out. A chained stream (one logical
 * stream after another, each opened by its own headers) is how Ogg carries a
 * new title: Icecast and players read the new stream's OpusTags.
 */

/** Header-type flags of a page. */
export const OGG_CONTINUED = 0x01;
export const OGG_BOS = 0x02;
export const OGG_EOS = 0x04;

/** Ogg's CRC-32: polynomial 0x04c11db7, not reflected, initial value 0. */
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let j = 0; j < 8; j++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

export function oggCrc(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ b) & 0xff]!) >>> 0;
  return crc;
}

export interface OggPageSpec {
  /** OGG_BOS, OGG_EOS, OGG_CONTINUED or'ed. */
  flags: number;
  /** The granule position after the last packet that ends on this page (-1: none ends here). */
  granule: bigint;
  serial: number;
  sequence: number;
  /** Whole packets; together at most 255 lacing values (see MAX_PAGE_SEGMENTS). */
  packets: readonly Uint8Array[];
}

/** Lacing values a page can hold. */
export const MAX_PAGE_SEGMENTS = 255;

/** Lacing values a packet takes: one per 255 bytes, and one under 255 to end it. */
export function segmentsOf(packetBytes: number): number {
  return Math.floor(packetBytes / 255) + 1;
}

/** One page holding whole packets. Throws when they need more than 255 lacing values. */
export function oggPage(spec: OggPageSpec): Buffer {
  const lacing: number[] = [];
  for (const p of spec.packets) {
    for (let left = p.length; ; left -= 255) {
      lacing.push(Math.min(left, 255));
      if (left < 255) break;
    }
  }
  if (lacing.length > MAX_PAGE_SEGMENTS) throw new RangeError(`an Ogg page holds at most ${MAX_PAGE_SEGMENTS} segments, these packets need ${lacing.length}`);
  const bodyBytes = spec.packets.reduce((n, p) => n + p.length, 0);
  const page = Buffer.alloc(27 + lacing.length + bodyBytes);
  page.write('OggS', 0, 'latin1');
  page[4] = 0;
  page[5] = spec.flags;
  page.writeBigInt64LE(spec.granule, 6);
  page.writeUInt32LE(spec.serial >>> 0, 14);
  page.writeUInt32LE(spec.sequence >>> 0, 18);
  // CRC at 22, zero while computed.
  page[26] = lacing.length;
  page.set(lacing, 27);
  let at = 27 + lacing.length;
  for (const p of spec.packets) {
    page.set(p, at);
    at += p.length;
  }
  page.writeUInt32LE(oggCrc(page), 22);
  return page;
}

/** The identification header (RFC 7845 5.1): channel mapping family 0. */
export function opusHead(channels: number, preSkip: number, inputSampleRate: number): Buffer {
  const b = Buffer.alloc(19);
  b.write('OpusHead', 0, 'latin1');
  b[8] = 1;
  b[9] = channels;
  b.writeUInt16LE(preSkip, 10);
  b.writeUInt32LE(inputSampleRate, 12);
  b.writeInt16LE(0, 16);
  b[18] = 0;
  return b;
}

/** Longest comment value written: a title is for showing, not storage. */
const MAX_COMMENT_BYTES = 1024;

/** The comment header (RFC 7845 5.2): `NAME=value` pairs, UTF-8, each cut to MAX_COMMENT_BYTES. */
export function opusTags(vendor: string, comments: readonly [string, string][]): Buffer {
  const parts: Buffer[] = [Buffer.from('OpusTags', 'latin1'), lengthPrefixed(Buffer.from(vendor, 'utf8'))];
  const count = Buffer.alloc(4);
  count.writeUInt32LE(comments.length);
  parts.push(count);
  for (const [name, value] of comments) parts.push(lengthPrefixed(cutUtf8(Buffer.from(`${name}=${value}`, 'utf8'), MAX_COMMENT_BYTES)));
  return Buffer.concat(parts);
}

function lengthPrefixed(b: Buffer): Buffer {
  const n = Buffer.alloc(4);
  n.writeUInt32LE(b.length);
  return Buffer.concat([n, b]);
}

/** At most `max` bytes, never ending inside a UTF-8 character. */
function cutUtf8(b: Buffer, max: number): Buffer {
  if (b.length <= max) return b;
  let end = max;
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end -= 1;
  return b.subarray(0, end);
}

/** A page read back: what a test or a player sees. */
export interface ParsedOggPage {
  flags: number;
  granule: bigint;
  serial: number;
  sequence: number;
  packets: Buffer[];
  /** Bytes of the page. */
  length: number;
  crcOk: boolean;
}

/** Read whole pages from the start of `bytes` (a test's and a reader's view; stops at the first incomplete page). */
export function parseOggPages(bytes: Buffer): ParsedOggPage[] {
  const pages: ParsedOggPage[] = [];
  let pos = 0;
  let partial: Buffer[] = [];
  while (pos + 27 <= bytes.length && bytes.toString('latin1', pos, pos + 4) === 'OggS') {
    const n = bytes[pos + 26]!;
    if (pos + 27 + n > bytes.length) break;
    const lacing = bytes.subarray(pos + 27, pos + 27 + n);
    const bodyBytes = lacing.reduce((a, b) => a + b, 0);
    const end = pos + 27 + n + bodyBytes;
    if (end > bytes.length) break;
    const page = Buffer.from(bytes.subarray(pos, end));
    const crc = page.readUInt32LE(22);
    page.writeUInt32LE(0, 22);
    const packets: Buffer[] = [];
    let at = pos + 27 + n;
    for (const l of lacing) {
      partial.push(bytes.subarray(at, at + l));
      at += l;
      if (l < 255) {
        packets.push(Buffer.concat(partial));
        partial = [];
      }
    }
    pages.push({
      flags: bytes[pos + 5]!,
      granule: bytes.readBigInt64LE(pos + 6),
      serial: bytes.readUInt32LE(pos + 14),
      sequence: bytes.readUInt32LE(pos + 18),
      packets,
      length: end - pos,
      crcOk: oggCrc(page) === crc,
    });
    pos = end;
  }
  return pages;
}

/** The comments of an OpusTags packet, as `NAME=value` strings; null when it is not one. */
export function readOpusTags(packet: Buffer): string[] | null {
  if (packet.length < 16 || packet.toString('latin1', 0, 8) !== 'OpusTags') return null;
  let at = 8;
  const vendorLength = packet.readUInt32LE(at);
  at += 4 + vendorLength;
  if (at + 4 > packet.length) return null;
  const count = packet.readUInt32LE(at);
  at += 4;
  const out: string[] = [];
  for (let i = 0; i < count && at + 4 <= packet.length; i++) {
    const len = packet.readUInt32LE(at);
    at += 4;
    out.push(packet.toString('utf8', at, Math.min(packet.length, at + len)));
    at += len;
  }
  return out;
}
