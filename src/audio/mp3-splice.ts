/**
 * Joining MP3 frames from two encodes of the same timeline without a glitch
 * (encode/splicing-encoding.ts; the encode-once study).
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
import { parseFrameHeader } from './mp3.js';

export interface FrameRef {
  offset: number;
  length: number;
  /** Where this frame's own data slot starts (after header, CRC, side info). */
  dataStart: number;
  /** Bytes back, in the stream of data slots, where its audio data starts. */
  mainDataBegin: number;
}

/** One MPEG-1 Layer III frame at `at`: where its data slot starts and how far back its data begins; null if none is there. */
export function frameAt(mp3: Uint8Array, at: number): FrameRef | null {
  const h = parseFrameHeader(mp3, at);
  if (!h || h.version !== 1 || at + h.frameLength > mp3.length) return null;
  const crc = (mp3[at + 1]! & 1) === 0 ? 2 : 0;
  const side = at + 4 + crc;
  const sideInfo = h.channels === 1 ? 17 : 32;
  return { offset: at, length: h.frameLength, dataStart: side + sideInfo, mainDataBegin: (mp3[side]! << 1) | (mp3[side + 1]! >> 7) };
}

/** Every MPEG-1 Layer III frame in a stream LAME wrote (no tags). */
export function indexFrames(mp3: Buffer): FrameRef[] {
  const frames: FrameRef[] = [];
  for (let at = 0; at + 4 <= mp3.length;) {
    const f = frameAt(mp3, at);
    if (!f) throw new Error(`no MPEG-1 frame at byte ${at}`);
    frames.push(f);
    at += f.length;
  }
  return frames;
}

/** Frames a joining frame's 511 reservoir bytes may span at this bitrate (44.1 kHz), plus one. */
export function reservoirFrames(bitrateKbps: number): number {
  const slot = Math.floor((144 * bitrateKbps * 1000) / 44100) - 36;
  return Math.ceil(511 / Math.max(1, slot)) + 1;
}

/** Bytes back one frame's audio data begins (its `main_data_begin`). */
export function reachOf(frame: Buffer): number {
  return frameAt(frame, 0)?.mainDataBegin ?? 0;
}

/** Whether frame `to` of one encode may follow frame `from - 1` of another: `from` is the source's first frame not sent. */
export function fits(source: FrameRef[], from: number, target: FrameRef[], to: number): boolean {
  const free = source[from]?.mainDataBegin ?? 0;
  return (target[to]?.mainDataBegin ?? 0) <= free;
}

/**
 * Copies of `before` (the last frames sent before a join, oldest first)
 * carrying, at the end of their data slots, the `need` bytes the joining
 * frame reaches back for, read from the end of its own encode's frames
 * before it (`targetBefore`, oldest first). At most 511 bytes: never more
 * than two slots of 128 kbit/s frames, three at 64.
 */
export function patchTail(before: readonly Buffer[], targetBefore: readonly Buffer[], need: number): Buffer[] {
  const copies = before.map((f) => Buffer.from(f));
  const slots = targetBefore.map((f) => ({ f, start: frameAt(f, 0)?.dataStart ?? f.length }));
  // Walk both streams' data slots backwards together.
  let t = slots.length - 1;
  let tEnd = t >= 0 ? slots[t]!.f.length : 0;
  for (let c = copies.length - 1; c >= 0 && need > 0; c--) {
    const copy = copies[c]!;
    const slotStart = frameAt(copy, 0)?.dataStart ?? copy.length;
    for (let sEnd = copy.length; sEnd > slotStart && need > 0; sEnd--, tEnd--, need--) {
      while (t >= 0 && tEnd <= slots[t]!.start) {
        t--;
        if (t >= 0) tEnd = slots[t]!.f.length;
      }
      if (t < 0) throw new Error('the joining frame reaches back before its stream’s start');
      copy[sEnd - 1] = slots[t]!.f[tEnd - 1]!;
    }
  }
  if (need > 0) throw new Error(`the last ${copies.length} frames are too short for ${need} more bytes`);
  return copies;
}

/**
 * Copies of the source's frames `[from - 3, from)` carrying, at the end of
 * their data slots, the bytes target frame `to` reaches back for.
 */
export function patchedTail(source: Buffer, sourceFrames: FrameRef[], from: number, target: Buffer, targetFrames: FrameRef[], to: number): Buffer[] {
  const need = targetFrames[to]!.mainDataBegin;
  if (need > (sourceFrames[from]?.mainDataBegin ?? 0))
    throw new Error(`frame ${to} reaches back ${need} bytes; the source has ${sourceFrames[from]?.mainDataBegin ?? 0} free`);
  const view = (buf: Buffer, f: FrameRef): Buffer => buf.subarray(f.offset, f.offset + f.length);
  const before = sourceFrames.slice(Math.max(0, from - 3), from).map((f) => view(source, f));
  const targetBefore = targetFrames.slice(Math.max(0, to - 4), to).map((f) => view(target, f));
  return patchTail(before, targetBefore, need);
}
