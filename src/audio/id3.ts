/**
 * ID3v2.4 tags as HLS packed audio uses them (RFC 8216 3.4; Apple's "Timed
 * Metadata for HTTP Live Streaming"): every segment opens with a tag whose
 * PRIV frame gives the timestamp of its first sample, and a tag between two
 * frames carries the title that starts there. Pure: values in, bytes out.
 */

/** PRIV owner naming the 33-bit MPEG-2 timestamp (90 kHz) of the audio that follows. */
export const HLS_TIMESTAMP_OWNER = 'com.apple.streaming.transportStreamTimestamp';
/** MPEG-2 timestamps wrap at 2^33 ticks of 90 kHz. */
const PTS_WRAP = 2n ** 33n;

export interface Id3Fields {
  /** Seconds from the stream's start: written as a 90 kHz timestamp. */
  timestampSeconds?: number;
  /** TIT2. */
  title?: string | undefined;
  /** TPE1. */
  artist?: string | undefined;
  /** WXXX: the song's picture, as players that show one read it. */
  url?: string | undefined;
}

/** Longest text written per frame: titles are for showing. */
const MAX_TEXT_BYTES = 1024;

/** One ID3v2.4 tag with the given frames. */
export function id3Tag(fields: Id3Fields): Buffer {
  const frames: Buffer[] = [];
  if (fields.timestampSeconds !== undefined) {
    const ts = Buffer.alloc(8);
    ts.writeBigUInt64BE(BigInt(Math.round(fields.timestampSeconds * 90_000)) % PTS_WRAP);
    frames.push(frame('PRIV', Buffer.concat([Buffer.from(`${HLS_TIMESTAMP_OWNER}\0`, 'latin1'), ts])));
  }
  if (fields.title !== undefined) frames.push(frame('TIT2', text(fields.title)));
  if (fields.artist) frames.push(frame('TPE1', text(fields.artist)));
  if (fields.url) frames.push(frame('WXXX', Buffer.concat([Buffer.from([0x03, 0x00]), Buffer.from(fields.url, 'latin1')])));
  const body = Buffer.concat(frames);
  const header = Buffer.alloc(10);
  header.write('ID3', 0, 'latin1');
  header[3] = 4;
  header[4] = 0;
  header[5] = 0;
  writeSynchsafe(header, 6, body.length);
  return Buffer.concat([header, body]);
}

/** A text frame's content: UTF-8 (encoding 3), cut at a character boundary. */
function text(s: string): Buffer {
  let b = Buffer.from(s, 'utf8');
  if (b.length > MAX_TEXT_BYTES) {
    let end = MAX_TEXT_BYTES;
    while (end > 0 && (b[end]! & 0xc0) === 0x80) end -= 1;
    b = b.subarray(0, end);
  }
  return Buffer.concat([Buffer.from([0x03]), b]);
}

function frame(id: string, content: Buffer): Buffer {
  const h = Buffer.alloc(10);
  h.write(id, 0, 'latin1');
  writeSynchsafe(h, 4, content.length);
  return Buffer.concat([h, content]);
}

function writeSynchsafe(b: Buffer, at: number, n: number): void {
  if (n >= 2 ** 28) throw new RangeError('ID3 size too large');
  b[at] = (n >> 21) & 0x7f;
  b[at + 1] = (n >> 14) & 0x7f;
  b[at + 2] = (n >> 7) & 0x7f;
  b[at + 3] = n & 0x7f;
}

/** A tag read back (tests, and a reader's view): its frames by id; PRIV as the timestamp in seconds. */
export function readId3(bytes: Buffer): { length: number; frames: Record<string, string | number> } | null {
  if (bytes.length < 10 || bytes.toString('latin1', 0, 3) !== 'ID3') return null;
  const size = (bytes[6]! << 21) | (bytes[7]! << 14) | (bytes[8]! << 7) | bytes[9]!;
  const frames: Record<string, string | number> = {};
  let at = 10;
  while (at + 10 <= 10 + size) {
    const id = bytes.toString('latin1', at, at + 4);
    const n = (bytes[at + 4]! << 21) | (bytes[at + 5]! << 14) | (bytes[at + 6]! << 7) | bytes[at + 7]!;
    const content = bytes.subarray(at + 10, at + 10 + n);
    if (id === 'PRIV') {
      const zero = content.indexOf(0);
      if (content.toString('latin1', 0, zero) === HLS_TIMESTAMP_OWNER) frames.PRIV = Number(content.readBigUInt64BE(zero + 1)) / 90_000;
    } else if (id === 'WXXX') {
      frames[id] = content.toString('latin1', 2);
    } else {
      frames[id] = content.toString('utf8', 1);
    }
    at += 10 + n;
  }
  return { length: 10 + size, frames };
}
