/** The picture formats the station takes, by their first bytes (never by a file name or a Content-Type). */
export type ImageType = 'jpeg' | 'png' | 'webp';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** JPEG, PNG or WebP by signature; null for anything else (an HTML error page, an SVG, a GIF). */
export function imageType(head: Uint8Array): ImageType | null {
  const b = Buffer.from(head.buffer, head.byteOffset, Math.min(head.length, 16));
  if (b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.subarray(0, 8).equals(PNG)) return 'png';
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  return null;
}
