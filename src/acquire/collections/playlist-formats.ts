/**
 * Playlist files as other players write them: M3U/M3U8 (extended, with
 * #EXTINF titles), PLS and XSPF. Pure: text in, entries out; where an
 * entry points is checked by the caller.
 */

/** One entry as the file gives it. */
export interface ListedEntry {
  /** A path (relative or absolute), or a URI, as written. */
  location: string;
  title?: string;
  artist?: string;
}

/** Entries read from one file at most. */
export const MAX_LISTED = 20_000;

/** The entries of a playlist file, its format told by its content (PLS's `[playlist]`, XSPF's `<playlist`), else M3U. */
export function parsePlaylistText(text: string): ListedEntry[] {
  const body = text.replace(/^\uFEFF/, '');
  const head = body.trimStart().slice(0, 200).toLowerCase();
  if (head.startsWith('[playlist]')) return parsePls(body);
  if (head.startsWith('<?xml') || head.startsWith('<playlist')) return parseXspf(body);
  return parseM3u(body);
}

/** M3U and M3U8: one location per line; `#EXTINF:<seconds>[ attributes],<Artist - Title>` names the next one. */
export function parseM3u(text: string): ListedEntry[] {
  const out: ListedEntry[] = [];
  let info: { title?: string; artist?: string } = {};
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      if (/^#EXTINF:/i.test(line)) info = splitTitle(afterAttributes(line.slice(8)));
      continue;
    }
    out.push({ location: line, ...info });
    info = {};
    if (out.length >= MAX_LISTED) break;
  }
  return out;
}

/** PLS: `FileN=`, `TitleN=` under `[playlist]`. */
export function parsePls(text: string): ListedEntry[] {
  const files = new Map<number, string>();
  const titles = new Map<number, string>();
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const m = /^\s*(File|Title)(\d{1,6})\s*=(.*)$/i.exec(raw);
    if (!m) continue;
    const n = Number(m[2]);
    (m[1]!.toLowerCase() === 'file' ? files : titles).set(n, m[3]!.trim());
  }
  return [...files.keys()]
    .sort((a, b) => a - b)
    .slice(0, MAX_LISTED)
    .map((n) => ({ location: files.get(n)!, ...splitTitle(titles.get(n)) }))
    .filter((e) => e.location !== '');
}

/**
 * XSPF: `<track>` elements with `<location>`, `<title>`, `<creator>`. Read
 * by scanning for tags, not with an XML parser: no entity is expanded but
 * the five named ones and character references (no external entities), and
 * every scan moves forward, so hostile input costs linear time.
 */
export function parseXspf(text: string): ListedEntry[] {
  const out: ListedEntry[] = [];
  // XML names are case-sensitive and XSPF's are lower case: searched as written.
  let at = 0;
  while (out.length < MAX_LISTED) {
    const open = text.indexOf('<track', at);
    if (open < 0) break;
    const bodyStart = text.indexOf('>', open);
    if (bodyStart < 0) break;
    // `<tracklist>` starts with `<track` too: only `<track>` or `<track ...>` open a track.
    if (!/[>\s/]/.test(text[open + 6] ?? '')) {
      at = bodyStart + 1;
      continue;
    }
    const close = text.indexOf('</track>', bodyStart);
    if (close < 0) break;
    at = close + 8;
    const body = text.slice(bodyStart + 1, close);
    const field = (name: string): string | undefined => {
      const o = body.indexOf(`<${name}`);
      if (o < 0) return undefined;
      const s = body.indexOf('>', o);
      const e = s < 0 ? -1 : body.indexOf(`</${name}>`, s);
      return e < 0 ? undefined : xmlText(body.slice(s + 1, e)).trim() || undefined;
    };
    const location = field('location');
    if (!location) continue;
    const title = field('title');
    const artist = field('creator');
    out.push({ location, ...(title ? { title } : {}), ...(artist ? { artist } : {}) });
  }
  return out;
}

/** `-1 tvg-id="x" group-title="y",Title`: the part after the attributes' comma (commas inside quotes do not count). */
function afterAttributes(s: string): string {
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '"') quoted = !quoted;
    else if (s[i] === ',' && !quoted) return s.slice(i + 1);
  }
  return '';
}

/** "Artist - Title" as the two; a title alone otherwise. */
function splitTitle(s: string | undefined): { title?: string; artist?: string } {
  const text = s?.trim();
  if (!text) return {};
  const at = text.indexOf(' - ');
  if (at > 0 && at < text.length - 3) return { artist: text.slice(0, at).trim(), title: text.slice(at + 3).trim() };
  return { title: text };
}

function xmlText(s: string): string {
  const cdata = /^\s*<!\[CDATA\[([\s\S]*)\]\]>\s*$/.exec(s);
  if (cdata) return cdata[1]!;
  return s.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|amp|lt|gt|quot|apos);/gi, (_, e: string) => {
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    if (e[0] !== '#') return named[e.toLowerCase()]!;
    const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
  });
}
