/**
 * Title updates as source clients send them to Icecast:
 * `GET /admin/metadata?mode=updinfo&mount=/live.mp3&song=Artist%20-%20Title&charset=UTF-8`
 * (libshout, BUTT, Mixxx), or `artist=` and `title=` together. Pure: the
 * raw request target in, the mount and the title out.
 *
 * Query values are percent-decoded to bytes first and only then read in the
 * charset the client names; with none, as UTF-8 when they are valid UTF-8
 * (what today's clients send), else as ISO-8859-1 (Icecast's default).
 */
import { cleanDisplayText } from '../config/playlist.js';

export type MetadataUpdate = { ok: true; mount: string; title: string } | { ok: false; status: 400; reason: string };

function percentBytes(s: string): Buffer | null {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '+') out.push(0x20);
    else if (c === '%') {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return null;
      out.push(parseInt(hex, 16));
      i += 2;
    } else {
      const code = c.charCodeAt(0);
      if (code > 0x7e) return null;
      out.push(code);
    }
  }
  return Buffer.from(out);
}

function decodeText(bytes: Buffer, charset: string | null): string | null {
  if (charset) {
    try {
      return new TextDecoder(charset, { fatal: false }).decode(bytes);
    } catch {
      return null;
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('latin1').decode(bytes);
  }
}

export function parseMetadataUpdate(target: string): MetadataUpdate {
  const q = target.indexOf('?');
  const raw = new Map<string, Buffer>();
  for (const pair of (q < 0 ? '' : target.slice(q + 1)).split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const name = percentBytes(eq < 0 ? pair : pair.slice(0, eq));
    const value = percentBytes(eq < 0 ? '' : pair.slice(eq + 1));
    if (!name || !value) return { ok: false, status: 400, reason: 'malformed percent-encoding in the query' };
    raw.set(name.toString('latin1').toLowerCase(), value);
  }
  if (raw.get('mode')?.toString('latin1') !== 'updinfo') return { ok: false, status: 400, reason: 'only mode=updinfo is supported' };
  const charsetName = raw.get('charset')?.toString('latin1') ?? null;
  const text = (name: string): string | undefined => {
    const bytes = raw.get(name);
    if (!bytes) return undefined;
    return decodeText(bytes, charsetName) ?? undefined;
  };
  if (charsetName && decodeText(Buffer.alloc(0), charsetName) === null)
    return { ok: false, status: 400, reason: `unknown charset "${charsetName.slice(0, 40)}"` };
  const mount = raw.get('mount')?.toString('utf8');
  if (!mount || !mount.startsWith('/')) return { ok: false, status: 400, reason: 'mount= is missing or does not start with /' };
  const song = text('song');
  const artist = text('artist');
  const title = text('title');
  const shown = cleanDisplayText(song ?? (artist && title ? `${artist} - ${title}` : undefined));
  if (!shown) return { ok: false, status: 400, reason: 'no song= (or artist= and title=) to show' };
  return { ok: true, mount, title: shown };
}

/** Icecast's answer to a metadata update (clients look for the message). */
export function metadataReplyXml(message: string, ok: boolean): string {
  const escaped = message.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<?xml version="1.0"?>\n<iceresponse><message>${escaped}</message><return>${ok ? 1 : 0}</return></iceresponse>\n`;
}
