/**
 * Joining MP3 frames from two encodes of the same timeline without a glitch,
 * for the encode-once study (scripts/study-encode-once.ts).
 *
 * A Layer III frame's audio data may begin in the frames before it (the bit
 * reservoir: `main_data_begin` bytes back). LAME at CBR keeps that reservoir
 * nearly full (450-511 bytes on music; a frame that starts at its own data
 * is rare), so a frame taken from encode B after frames from encode A would
 * read A's bytes as its own. The join therefore copies the bytes B's frame
 * reads from B's stream into the tail of A's last frames, which only A's
 * unsent frames would have read: legal when B's frame reaches back no
 * further than A's next frame would have (`fits`).
 */
import { parseFrameHeader } from '../../src/audio/mp3.js';

export interface FrameRef {
  offset: number;
  length: number;
  /** Where this frame's own data slot starts (after header, CRC, side info). */
  dataStart: number;
  /** Bytes back, in the stream of data slots, where its audio data starts. */
  mainDataBegin: number;
}

/** Every MPEG-1 Layer III frame in a stream LAME wrote (no tags). */
export function indexFrames(mp3: Buffer): FrameRef[] {
  const frames: FrameRef[] = [];
  let at = 0;
  while (at + 4 <= mp3.length) {
    const h = parseFrameHeader(mp3, at);
    if (!h || h.version !== 1) throw new Error(`no MPEG-1 frame at byte ${at}`);
    const crc = (mp3[at + 1]! & 1) === 0 ? 2 : 0;
    const side = at + 4 + crc;
    const sideInfo = h.channels === 1 ? 17 : 32;
    frames.push({ offset: at, length: h.frameLength, dataStart: side + sideInfo, mainDataBegin: (mp3[side]! << 1) | (mp3[side + 1]! >> 7) });
    at += h.frameLength;
  }
  return frames;
}

/** Whether frame `to` of one encode may follow frame `from - 1` of another: `from` is the source's first frame not sent. */
export function fits(source: FrameRef[], from: number, target: FrameRef[], to: number): boolean {
  const free = source[from]?.mainDataBegin ?? 0;
  return (target[to]?.mainDataBegin ?? 0) <= free;
}

/**
 * Copies of the source's frames `[from - 3, from)` carrying, at the end of
 * their data slots, the bytes target frame `to` reaches back for. At most
 * 511 bytes: never more than two slots of 128 kbit/s frames, three at 64.
 */
export function patchedTail(source: Buffer, sourceFrames: FrameRef[], from: number, target: Buffer, targetFrames: FrameRef[], to: number): Buffer[] {
  const first = Math.max(0, from - 3);
  const copies = sourceFrames.slice(first, from).map((f) => Buffer.from(source.subarray(f.offset, f.offset + f.length)));
  let need = targetFrames[to]!.mainDataBegin;
  if (need > (sourceFrames[from]?.mainDataBegin ?? 0))
    throw new Error(`frame ${to} reaches back ${need} bytes; the source has ${sourceFrames[from]?.mainDataBegin ?? 0} free`);
  // Walk both streams' data slots backwards together.
  let t = to - 1;
  let tEnd = targetFrames[t] ? targetFrames[t]!.offset + targetFrames[t]!.length : 0;
  for (let c = copies.length - 1; c >= 0 && need > 0; c--) {
    const ref = sourceFrames[first + c]!;
    const slotStart = ref.dataStart - ref.offset;
    let sEnd = ref.length;
    while (sEnd > slotStart && need > 0) {
      while (t >= 0 && tEnd <= targetFrames[t]!.dataStart) {
        t--;
        if (t >= 0) tEnd = targetFrames[t]!.offset + targetFrames[t]!.length;
      }
      if (t < 0) throw new Error(`target frame ${to} reaches back before its stream's start`);
      copies[c]![sEnd - 1] = target[tEnd - 1]!;
      sEnd--;
      tEnd--;
      need--;
    }
  }
  if (need > 0) throw new Error(`the source's last ${copies.length} frames are too short for ${need} more bytes`);
  return copies;
}
