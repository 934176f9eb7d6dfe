import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for the QQ Music web API and its media CDN, answering in
 * the documented shapes (shared/reference/qq-music-api.md), failures
 * included. Only for what cannot be reached from here.
 */
export interface StandinSong {
  mid: string;
  title: string;
  singer: { mid: string; name: string }[];
  album?: { mid: string; name: string };
  interval: number;
  mediaMid?: string;
  /** Media served by the CDN for this song. */
  file?: string;
  /** How the API treats this song. */
  behaviour?: 'ok' | 'not-playable' | 'vip' | 'code' | 'malformed' | 'slow' | 'rate-limited' | 'wrong-file' | 'signature' | 'credential';
  /** CDN answers 403 for the first N downloads (an expired vkey). */
  cdnForbiddenTimes?: number;
}

/** A playlist; `shape` says how its items come: track-info style (default), legacy (`songmid`/`songname`), alternating, or unreadable. */
export interface StandinPlaylist {
  title: string;
  mids: string[];
  shape?: 'track' | 'legacy' | 'mixed' | 'garbage';
}

export interface Standin {
  base: string;
  /** Upstream API calls counted per request module. */
  calls: Map<string, number>;
  cdnRequests: number;
  songs: Map<string, StandinSong>;
  playlists: Map<string, StandinPlaylist>;
  slowMs: number;
  /** Pictures on the image origin (y.gtimg.cn) by album or singer mid: a file served as is. */
  pictures: Map<string, string>;
  imageRequests: number;
  close(): Promise<void>;
}

/**
 * `opts.listen`: the address to listen on (default loopback); `opts.publicHost`:
 * the host name its URLs (API base, CDN addresses) carry, for clients that
 * reach it by another name (containers: host.containers.internal).
 */
export async function startStandin(
  songs: StandinSong[],
  playlists: Record<string, StandinPlaylist> = {},
  opts: { listen?: string; publicHost?: string } = {},
): Promise<Standin> {
  const s: Standin = {
    base: '',
    calls: new Map(),
    cdnRequests: 0,
    songs: new Map(songs.map((x) => [x.mid, x])),
    playlists: new Map(Object.entries(playlists)),
    slowMs: 30_000,
    pictures: new Map(),
    imageRequests: 0,
    close: async () => undefined,
  };
  const count = (k: string): void => {
    s.calls.set(k, (s.calls.get(k) ?? 0) + 1);
  };
  const trackInfo = (x: StandinSong) => ({
    id: 100000 + x.mid.length,
    type: 0,
    mid: x.mid,
    name: x.title,
    title: x.title,
    singer: x.singer.map((g, i) => ({ id: i + 1, mid: g.mid, name: g.name, title: g.name, type: 0 })),
    album: x.album ? { id: 7, mid: x.album.mid, name: x.album.name, title: x.album.name } : { id: 0, mid: '', name: '', title: '' },
    interval: x.interval,
    file: { media_mid: x.mediaMid ?? x.mid, size_96aac: 1000, size_192aac: 0, size_128mp3: 1000, size_320mp3: 0, size_flac: 0 },
    pay: { pay_month: x.behaviour === 'vip' ? 1 : 0, price_track: 0, pay_play: x.behaviour === 'vip' ? 1 : 0, pay_down: 0, pay_status: 0 },
  });
  /** The legacy item shape (c.y.qq.com's cdlist, and old musicu answers). */
  const legacyItem = (x: StandinSong) => ({
    songmid: x.mid,
    songname: x.title,
    songid: 100000 + x.mid.length,
    singer: x.singer.map((g, i) => ({ id: i + 1, mid: g.mid, name: g.name })),
    albummid: x.album?.mid ?? '',
    albumname: x.album?.name ?? '',
    interval: x.interval,
    strMediaMid: x.mediaMid ?? x.mid,
    size128: 1000,
    size320: 0,
    sizeflac: 0,
    pay: { payplay: x.behaviour === 'vip' ? 1 : 0, paydownload: 0 },
  });
  const itemOf = (pl: StandinPlaylist, x: StandinSong, i: number) => {
    if (pl.shape === 'garbage') return { oops: i };
    if (pl.shape === 'legacy' || (pl.shape === 'mixed' && i % 2 === 1)) return legacyItem(x);
    return trackInfo(x);
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    // Any path ending in musicu.fcg: the proxy's upstream path is a setting.
    if (url.pathname.endsWith('/musicu.fcg')) {
      count(`path:${url.pathname}`);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString() || url.searchParams.get('data') || '{}') as Record<
          string,
          { module?: string; method?: string; param?: Record<string, unknown> }
        >;
        const out: Record<string, unknown> = { code: 0, ts: Date.now() };
        let delay = 0;
        for (const [key, r] of Object.entries(body)) {
          if (key === 'comm' || !r.module) continue;
          count(`${r.module}.${r.method}`);
          const mid = (r.param?.song_mid as string | undefined) ?? (r.param?.songmid as string[] | undefined)?.[0];
          const song = mid ? s.songs.get(mid) : undefined;
          if (song?.behaviour === 'malformed') {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end('{"code":0,"songinfo":{"data":{"track_info"');
            return;
          }
          if (song?.behaviour === 'rate-limited') {
            res.writeHead(429);
            res.end();
            return;
          }
          if (song?.behaviour === 'slow') delay = s.slowMs;
          if (song?.behaviour === 'code') {
            out[key] = { code: 500001, data: {} };
            continue;
          }
          if (song?.behaviour === 'signature' || song?.behaviour === 'credential') {
            out.code = song.behaviour === 'signature' ? 2000 : 1000;
            continue;
          }
          if (r.module === 'music.pf_song_detail_svr') {
            out[key] = { code: 0, data: { track_info: song ? trackInfo(song) : { id: 0, mid: '', name: '' }, extras: {}, info: {} } };
          } else if (r.module === 'vkey.GetVkeyServer' || r.module === 'music.vkey.GetVkey') {
            const asked = (r.param?.filename as string[])[0]!;
            // A wrong answer names another quality's file, as a confused upstream might.
            const filename = song?.behaviour === 'wrong-file' ? asked.replace(/^C400/, 'M500').replace(/\.m4a$/, '.mp3') : asked;
            const playable = song && song.behaviour !== 'not-playable' && song.behaviour !== 'vip';
            const purl = playable ? `${filename}?guid=1&vkey=V${Date.now()}&uin=0&fromtag=120032` : '';
            const current = r.module === 'music.vkey.GetVkey';
            out[key] = {
              code: 0,
              data: {
                expiration: 80400,
                msg: '127.0.0.1',
                sip: ['http://ws.stream.qqmusic.qq.com/', `${s.base}/cdn/`],
                // The current call answers the path in `wifiurl` (and `purl` empty or the same); the older in `purl`.
                midurlinfo: [
                  {
                    songmid: mid,
                    filename,
                    purl: current ? '' : purl,
                    ...(current ? { wifiurl: purl, flowurl: '' } : {}),
                    vkey: playable ? 'V' : '',
                    result: playable ? 0 : 104003,
                  },
                ],
              },
            };
          } else if (r.module === 'music.srfDissInfo.aiDissInfo') {
            const id = String(r.param?.disstid);
            const pl = s.playlists.get(id);
            out[key] = pl
              ? {
                  code: 0,
                  data: {
                    dirinfo: { id: Number(id), title: pl.title },
                    total_song_num: pl.mids.length,
                    songlist: pl.mids.map((m, i) => itemOf(pl, s.songs.get(m)!, i)),
                  },
                }
              : { code: 0, data: { dirinfo: {}, total_song_num: 0, songlist: [] } };
          } else if (r.module === 'music.search.SearchCgiService') {
            const q = String(r.param?.query).toLowerCase();
            const list = [...s.songs.values()].filter((x) => x.title.toLowerCase().includes(q) || x.singer.some((g) => g.name.toLowerCase().includes(q)));
            out[key] = { code: 0, data: { body: { song: { list: list.map(trackInfo) } }, meta: { sum: list.length } } };
          } else {
            out[key] = { code: 2000, data: {} };
          }
        }
        const send = (): void => {
          if (res.destroyed) return;
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(out));
        };
        if (delay > 0) setTimeout(send, delay).unref();
        else send();
      });
      return;
    }
    const photo = /^\/music\/photo_new\/T00[12]R500x500M000([0-9A-Za-z]+)\.jpg$/.exec(url.pathname);
    if (photo) {
      s.imageRequests++;
      const file = s.pictures.get(photo[1]!);
      if (!file) {
        res.writeHead(404, { 'content-type': 'text/html' });
        res.end('<html>404</html>');
        return;
      }
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': body.length });
      res.end(body);
      return;
    }
    if (url.pathname.startsWith('/cdn/')) {
      s.cdnRequests++;
      const filename = url.pathname.slice('/cdn/'.length);
      const song = [...s.songs.values()].find((x) => filename.startsWith(`C400${x.mid}`) || filename.includes(x.mid));
      if (!song?.file || !url.searchParams.get('vkey')) {
        res.writeHead(404);
        res.end();
        return;
      }
      if ((song.cdnForbiddenTimes ?? 0) > 0) {
        song.cdnForbiddenTimes!--;
        res.writeHead(403, { 'content-type': 'text/html' });
        res.end('<html>403 Forbidden</html>');
        return;
      }
      const body = readFileSync(song.file);
      res.writeHead(200, { 'content-type': 'audio/mp4', 'content-length': body.length });
      res.end(body);
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, opts.listen ?? '127.0.0.1', r));
  s.base = `http://${opts.publicHost ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`;
  s.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return s;
}
