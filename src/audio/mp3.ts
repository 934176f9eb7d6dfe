/**
 * MPEG audio Layer III frame headers and a streaming frame splitter.
 * Pure: bytes in, values out. The pacing clock needs each frame's duration,
 * and outputs must only ever cut the stream on a frame boundary.
 */

/** Samples in an MPEG-1 Layer III frame (every frame sCast encodes: 44.1 kHz). */
export const MP3_FRAME_SAMPLES = 1152;

export type MpegVersion = 1 | 2 | 2.5;

export interface FrameHeader {
  version: MpegVersion;
  bitrateKbps: number;
  sampleRate: number;
  padding: boolean;
  /** 0 stereo, 1 joint stereo, 2 dual channel, 3 mono. */
  channelMode: number;
  channels: 1 | 2;
  samplesPerFrame: 1152 | 576;
  /** Whole frame in bytes, header included. */
  frameLength: number;
}

export interface Mp3Frame {
  header: FrameHeader;
  data: Buffer;
}

const BITRATES_V1 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const BITRATES_V2 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const SAMPLE_RATES: Record<string, readonly number[]> = {
  '1': [44100, 48000, 32000],
  '2': [22050, 24000, 16000],
  '2.5': [11025, 12000, 8000],
};

/** Parse a Layer III header at `offset`; null when the 4 bytes there are not one. */
export function parseFrameHeader(buf: Uint8Array, offset = 0): FrameHeader | null {
  if (offset + 4 > buf.length) return null;
  const b0 = buf[offset]!;
  const b1 = buf[offset + 1]!;
  const b2 = buf[offset + 2]!;
  const b3 = buf[offset + 3]!;
  if (b0 !== 0xff || (b1 & 0xe0) !== 0xe0) return null;
  const versionBits = (b1 >> 3) & 0x03;
  if (versionBits === 0x01) return null; // reserved
  const layerBits = (b1 >> 1) & 0x03;
  if (layerBits !== 0x01) return null; // only Layer III
  const version: MpegVersion = versionBits === 0x03 ? 1 : versionBits === 0x02 ? 2 : 2.5;
  const bitrateIndex = (b2 >> 4) & 0x0f;
  if (bitrateIndex === 0 || bitrateIndex === 0x0f) return null; // free format or invalid
  const rateIndex = (b2 >> 2) & 0x03;
  if (rateIndex === 0x03) return null;
  if ((b3 & 0x03) === 0x02) return null; // reserved emphasis
  const bitrateKbps = (version === 1 ? BITRATES_V1 : BITRATES_V2)[bitrateIndex]!;
  const sampleRate = SAMPLE_RATES[String(version)]![rateIndex]!;
  const padding = ((b2 >> 1) & 0x01) === 1;
  const channelMode = (b3 >> 6) & 0x03;
  const samplesPerFrame = version === 1 ? 1152 : 576;
  const coefficient = version === 1 ? 144 : 72;
  const frameLength = Math.floor((coefficient * bitrateKbps * 1000) / sampleRate) + (padding ? 1 : 0);
  return {
    version,
    bitrateKbps,
    sampleRate,
    padding,
    channelMode,
    channels: channelMode === 3 ? 1 : 2,
    samplesPerFrame,
    frameLength,
  };
}

/** Duration of one frame in seconds. */
export function frameSeconds(h: FrameHeader): number {
  return h.samplesPerFrame / h.sampleRate;
}

function sameStream(a: FrameHeader, b: FrameHeader): boolean {
  return a.version === b.version && a.sampleRate === b.sampleRate;
}

/**
 * Cuts an arbitrary byte stream into whole MP3 frames. Bytes that are not
 * frames (garbage, tags) are skipped. After losing sync, a candidate header
 * only counts when the next frame's header follows where it should, so a
 * stray 0xFFE in data cannot start a false frame.
 */
export class Mp3FrameSplitter {
  private pending: Buffer = Buffer.alloc(0);
  private locked: FrameHeader | null = null;

  /** Feed bytes; returns the frames completed by them, in order. */
  push(chunk: Uint8Array): Mp3Frame[] {
    const buf = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
    const frames: Mp3Frame[] = [];
    let pos = 0;
    while (pos + 4 <= buf.length) {
      const header = parseFrameHeader(buf, pos);
      if (header === null || (this.locked !== null && !sameStream(header, this.locked))) {
        this.lose();
        pos += 1;
        continue;
      }
      const end = pos + header.frameLength;
      if (this.locked === null) {
        // Confirm with the following header before trusting this one.
        if (end + 4 > buf.length) break;
        const next = parseFrameHeader(buf, end);
        if (next === null || !sameStream(next, header)) {
          pos += 1;
          continue;
        }
        this.locked = header;
      }
      if (end > buf.length) break;
      frames.push({ header, data: buf.subarray(pos, end) });
      pos = end;
    }
    // Copy the tail so the big buffer can be collected.
    this.pending = Buffer.from(buf.subarray(pos));
    return frames;
  }

  private lose(): void {
    this.locked = null;
  }
}

/** An encoded frame on its way to listeners, paced at real time. */
export interface PacedFrame<M> {
  data: Buffer;
  /** Samples in this frame (1152 for MPEG-1 Layer III). */
  samples: number;
  /** Something to announce right before this frame goes out (a new song). */
  marker?: M | undefined;
  /**
   * This frame is a stream's headers (an Ogg stream's first pages): a
   * listener or server joining later needs them before any other frame.
   */
  headers?: boolean | undefined;
}
