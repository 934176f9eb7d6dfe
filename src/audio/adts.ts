/**
 * AAC in ADTS frames (ISO/IEC 13818-7, the framing Icecast, HLS packed audio
 * and every player read): header parsing and a streaming frame splitter.
 * Pure: bytes in, values out. Outputs and the pacing clock must only ever
 * cut an AAC stream on a frame boundary, and need each frame's duration.
 */

export const ADTS_SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350] as const;

export interface AdtsHeader {
  /** 1: AAC Main, 2: AAC LC, 3: SSR, 4: LTP (the audio object type). */
  objectType: number;
  sampleRate: number;
  channels: number;
  /** Whole frame in bytes, header included. */
  frameLength: number;
  /** 1024 per raw data block. */
  samples: number;
}

/** Parse an ADTS header at `offset`; null when the bytes there are not one. */
export function parseAdtsHeader(buf: Uint8Array, offset = 0): AdtsHeader | null {
  if (offset + 7 > buf.length) return null;
  const b = (i: number): number => buf[offset + i]!;
  if (b(0) !== 0xff || (b(1) & 0xf6) !== 0xf0) return null; // sync, layer 0
  const profile = (b(2) >> 6) & 0x03;
  const rateIndex = (b(2) >> 2) & 0x0f;
  const sampleRate = ADTS_SAMPLE_RATES[rateIndex];
  if (sampleRate === undefined) return null;
  const channels = ((b(2) & 0x01) << 2) | ((b(3) >> 6) & 0x03);
  const frameLength = ((b(3) & 0x03) << 11) | (b(4) << 3) | ((b(5) >> 5) & 0x07);
  const headerBytes = (b(1) & 0x01) === 1 ? 7 : 9;
  if (frameLength < headerBytes) return null;
  const blocks = (b(6) & 0x03) + 1;
  return { objectType: profile + 1, sampleRate, channels, frameLength, samples: blocks * 1024 };
}

export interface AdtsFrame {
  header: AdtsHeader;
  data: Buffer;
}

/**
 * Cuts a byte stream into whole ADTS frames. After losing sync, a candidate
 * header counts only when the next frame's header follows where it says,
 * so a stray 0xFFF in the data cannot start a false frame.
 */
export class AdtsFrameSplitter {
  private pending: Buffer = Buffer.alloc(0);
  private locked = false;

  push(chunk: Uint8Array): AdtsFrame[] {
    const buf = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
    const frames: AdtsFrame[] = [];
    let pos = 0;
    while (pos + 7 <= buf.length) {
      const header = parseAdtsHeader(buf, pos);
      if (header === null) {
        this.locked = false;
        pos += 1;
        continue;
      }
      const end = pos + header.frameLength;
      if (!this.locked) {
        if (end + 7 > buf.length) break;
        if (parseAdtsHeader(buf, end)?.sampleRate !== header.sampleRate) {
          pos += 1;
          continue;
        }
        this.locked = true;
      }
      if (end > buf.length) break;
      frames.push({ header, data: buf.subarray(pos, end) });
      pos = end;
    }
    this.pending = Buffer.from(buf.subarray(pos));
    return frames;
  }
}

/** The 7-byte ADTS header (no CRC) for one raw AAC frame of `payloadBytes`. */
export function adtsHeader(objectType: number, sampleRate: number, channels: number, payloadBytes: number): Buffer {
  const rateIndex = ADTS_SAMPLE_RATES.indexOf(sampleRate as (typeof ADTS_SAMPLE_RATES)[number]);
  if (rateIndex < 0) throw new Error(`ADTS has no sample rate ${sampleRate}`);
  const length = payloadBytes + 7;
  if (length > 0x1fff) throw new Error(`an ADTS frame holds at most ${0x1fff - 7} bytes, not ${payloadBytes}`);
  const h = Buffer.alloc(7);
  h[0] = 0xff;
  h[1] = 0xf1; // MPEG-4, layer 0, no CRC
  h[2] = ((objectType - 1) << 6) | (rateIndex << 2) | (channels >> 2);
  h[3] = ((channels & 3) << 6) | (length >> 11);
  h[4] = (length >> 3) & 0xff;
  h[5] = ((length & 7) << 5) | 0x1f; // buffer fullness 0x7FF: variable rate
  h[6] = 0xfc; // one raw data block
  return h;
}
