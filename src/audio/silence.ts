const V1_BITRATE_INDEX: Record<number, number> = {
  32: 1,
  40: 2,
  48: 3,
  56: 4,
  64: 5,
  80: 6,
  96: 7,
  112: 8,
  128: 9,
  160: 10,
  192: 11,
  224: 12,
  256: 13,
  320: 14,
};

/**
 * A valid MPEG-1 Layer III frame that decodes to silence: a header, all-zero
 * side information (no granule has any coded bits) and zero main data.
 * Sent when the encoder has nothing ready, so the wire is never dead. Frames
 * are unpadded; the bitrate a header declares is what decoders trust.
 */
export function silentFrame(bitrateKbps: number, sampleRate: 44100 | 48000 | 32000 = 44100): Buffer {
  const bitrateIndex = V1_BITRATE_INDEX[bitrateKbps];
  if (bitrateIndex === undefined) throw new RangeError(`no MPEG-1 Layer III bitrate ${bitrateKbps} kbit/s`);
  const rateIndex = { 44100: 0, 48000: 1, 32000: 2 }[sampleRate];
  const length = Math.floor((144 * bitrateKbps * 1000) / sampleRate);
  const frame = Buffer.alloc(length);
  frame[0] = 0xff;
  frame[1] = 0xfb; // MPEG-1, Layer III, no CRC
  frame[2] = (bitrateIndex << 4) | (rateIndex << 2); // no padding
  frame[3] = 0x00; // stereo, no emphasis
  return frame;
}
