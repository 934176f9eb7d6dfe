/**
 * Listen files, as Icecast serves them next to a mount (`/radio.mp3.m3u`,
 * `.xspf`) and as players, directories and car radios expect (`.pls`):
 * each names every way to hear the channel, Icecast first (it is built to
 * carry crowds), then the station's own output.
 */
export const LISTEN_FILE = /^(.+)\.(m3u|pls|xspf)$/;

export interface ListenFile {
  type: string;
  body: string;
}

const xml = (s: string): string =>
  s
    .replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!)
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '');
/** One line in a line-based file: a title may not start another entry. */
const line = (s: string): string => s.replace(/[\r\n]+/g, ' ');

export function listenFile(kind: string, name: string, urls: readonly string[]): ListenFile {
  switch (kind) {
    case 'm3u':
      return { type: 'audio/x-mpegurl', body: `#EXTM3U\n${urls.map((u) => `#EXTINF:-1,${line(name)}\n${u}\n`).join('')}` };
    case 'pls':
      return {
        type: 'audio/x-scpls',
        body: `[playlist]\n${urls.map((u, i) => `File${i + 1}=${u}\nTitle${i + 1}=${line(name)}\nLength${i + 1}=-1\n`).join('')}NumberOfEntries=${urls.length}\nVersion=2\n`,
      };
    default:
      return {
        type: 'application/xspf+xml',
        body:
          `<?xml version="1.0" encoding="UTF-8"?>\n<playlist version="1" xmlns="http://xspf.org/ns/0/">\n  <title>${xml(name)}</title>\n  <trackList>\n` +
          urls.map((u) => `    <track>\n      <location>${xml(u)}</location>\n      <title>${xml(name)}</title>\n    </track>\n`).join('') +
          '  </trackList>\n</playlist>\n',
      };
  }
}
