import { open } from 'node:fs/promises';

/**
 * The exact playing time of an MP4/M4A audio track, from its edit list.
 *
 * AAC is coded in 1024-sample frames, so the last frame carries up to 1023
 * samples of padding that the edit list declares but ffmpeg 5's decoder does
 * not cut. Left in, they are 10-25 ms of silence at every seam after an m4a
 * song. Knowing the exact length lets the channel drop them.
 */

interface Box {
  type: string;
  /** Offset of the payload (after the header) within the buffer. */
  start: number;
  end: number;
}

function* boxes(buf: Buffer, from: number, to: number): Generator<Box> {
  let pos = from;
  while (pos + 8 <= to) {
    let size = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    let header = 8;
    if (size === 1) {
      if (pos + 16 > to) return;
      size = Number(buf.readBigUInt64BE(pos + 8));
      header = 16;
    } else if (size === 0) {
      size = to - pos;
    }
    if (size < header || pos + size > to) return;
    yield { type, start: pos + header, end: pos + size };
    pos += size;
  }
}

function child(buf: Buffer, parent: Box, type: string): Box | undefined {
  for (const b of boxes(buf, parent.start, parent.end)) if (b.type === type) return b;
  return undefined;
}

/** Seconds of audio the first sound track of a `moov` box declares; null when it cannot tell. */
export function audioDurationFromMoov(moov: Buffer): number | null {
  const root: Box = { type: 'moov', start: moov.readUInt32BE(0) === 1 ? 16 : 8, end: moov.length };
  const mvhd = child(moov, root, 'mvhd');
  if (!mvhd) return null;
  const movieScale = moov.readUInt32BE(mvhd.start + (moov[mvhd.start] === 1 ? 20 : 12));
  for (const trak of boxes(moov, root.start, root.end)) {
    if (trak.type !== 'trak') continue;
    const mdia = child(moov, trak, 'mdia');
    const hdlr = mdia && child(moov, mdia, 'hdlr');
    if (!mdia || !hdlr || moov.toString('latin1', hdlr.start + 8, hdlr.start + 12) !== 'soun') continue;
    const edts = child(moov, trak, 'edts');
    const elst = edts && child(moov, edts, 'elst');
    if (elst && movieScale > 0) {
      const v1 = moov[elst.start] === 1;
      const count = moov.readUInt32BE(elst.start + 4);
      let seconds = 0;
      let pos = elst.start + 8;
      for (let i = 0; i < count; i++) {
        const duration = v1 ? Number(moov.readBigUInt64BE(pos)) : moov.readUInt32BE(pos);
        const mediaTime = v1 ? Number(moov.readBigInt64BE(pos + 8)) : moov.readInt32BE(pos + 4);
        if (mediaTime >= 0) seconds += duration / movieScale; // -1 is an empty edit (a delay), not audio
        pos += v1 ? 20 : 12;
      }
      if (seconds > 0) return seconds;
    }
    return null;
  }
  return null;
}

/** Read a file's `moov` box (wherever it is) and return the audio duration in seconds, or null. */
export async function mp4AudioDuration(file: string): Promise<number | null> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const head = Buffer.alloc(16);
    let pos = 0;
    while (pos + 8 <= size) {
      await fh.read(head, 0, 16, pos);
      let boxSize = head.readUInt32BE(0);
      const type = head.toString('latin1', 4, 8);
      if (pos === 0 && type !== 'ftyp') return null; // not an MP4 file
      if (boxSize === 1) boxSize = Number(head.readBigUInt64BE(8));
      else if (boxSize === 0) boxSize = size - pos;
      if (boxSize < 8) return null;
      if (type === 'moov') {
        if (boxSize > 64 * 1024 * 1024) return null;
        const moov = Buffer.alloc(boxSize);
        await fh.read(moov, 0, boxSize, pos);
        return audioDurationFromMoov(moov);
      }
      pos += boxSize;
    }
    return null;
  } finally {
    await fh.close();
  }
}
