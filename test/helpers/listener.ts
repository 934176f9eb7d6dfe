import net from 'node:net';
import { IcyReader, parseIcyText } from '../../src/audio/icy.js';
import { Watch } from './when.js';

export interface TitleSeen {
  title: string;
  /** Audio bytes received before the block carrying it. */
  audioOffset: number;
  at: number;
  /** StreamUrl sent with it, if any. */
  url?: string;
}

export interface Listener {
  /** When each piece of audio arrived: `offset` is the audio byte count before it. */
  arrivals: { offset: number; at: number }[];
  /** Wall time (ms) at which audio byte `offset` arrived. */
  arrivalOf(offset: number): number | undefined;
  status: number;
  headers: Record<string, string>;
  audio(): Buffer;
  titles: TitleSeen[];
  closed: boolean;
  bytes: number;
  /** Waits for `check` to give a value, looked at as audio and titles arrive (no polling). */
  when<T>(what: string, check: () => T | undefined, timeoutMs?: number): Promise<T>;
  /** Resolves with the title once one satisfying `match` arrives. */
  waitForTitle(match: (t: string) => boolean, timeoutMs?: number): Promise<TitleSeen>;
  close(): void;
  startedAt: number;
}

/**
 * A listener as a player is: plain HTTP/1.0 GET with `Icy-MetaData: 1`,
 * splitting what arrives into audio and ICY titles.
 */
export function listen(url: string, opts: { icy?: boolean; onAudio?: (audio: Buffer) => void; keep?: boolean; localAddress?: string } = {}): Promise<Listener> {
  const u = new URL(url);
  const icy = opts.icy ?? true;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: u.hostname, port: Number(u.port), ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
    const chunks: Buffer[] = [];
    const watch = new Watch();
    const waiters: { match: (t: string) => boolean; resolve: (t: TitleSeen) => void }[] = [];
    let head = Buffer.alloc(0);
    let reader: IcyReader | null = null;
    let plain = false;
    const l: Listener = {
      arrivals: [],
      arrivalOf(offset) {
        let found: number | undefined;
        for (const a of l.arrivals) {
          if (a.offset > offset) break;
          found = a.at;
        }
        return found;
      },
      status: 0,
      headers: {},
      audio: () => Buffer.concat(chunks),
      titles: [],
      closed: false,
      bytes: 0,
      startedAt: Date.now(),
      when: (what, check, ms) => watch.when(what, check, ms),
      waitForTitle(match, timeoutMs = 30_000) {
        const seen = l.titles.find((t) => match(t.title));
        if (seen) return Promise.resolve(seen);
        return new Promise((res, rej) => {
          const timer = setTimeout(
            () => rej(new Error(`no matching title within ${timeoutMs} ms; saw ${JSON.stringify(l.titles.map((t) => t.title))}`)),
            timeoutMs,
          );
          waiters.push({
            match,
            resolve: (t) => {
              clearTimeout(timer);
              res(t);
            },
          });
        });
      },
      close() {
        socket.destroy();
      },
    };
    const keep = opts.keep ?? true;
    const onAudio = (b: Buffer): void => {
      opts.onAudio?.(b);
      if (keep) {
        l.arrivals.push({ offset: l.bytes, at: Date.now() });
        chunks.push(Buffer.from(b));
      }
      l.bytes += b.length;
      watch.changed();
    };
    socket.on('connect', () => {
      socket.write(`GET ${u.pathname} HTTP/1.0\r\nHost: ${u.host}\r\nUser-Agent: scast-test\r\n${icy ? 'Icy-MetaData: 1\r\n' : ''}\r\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      if (reader || plain) {
        if (reader) reader.push(chunk);
        else onAudio(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = head.subarray(0, end).toString('utf8').split('\r\n');
      l.status = Number(lines[0]!.split(' ')[1]);
      for (const line of lines.slice(1)) {
        const i = line.indexOf(':');
        l.headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      const metaint = Number(l.headers['icy-metaint']);
      if (icy && metaint > 0) {
        reader = new IcyReader(metaint, onAudio, (ev) => {
          if (ev.title === undefined) return;
          const url = parseIcyText(ev.raw).url;
          const seen = { title: ev.title, audioOffset: ev.audioOffset, at: Date.now(), ...(url === undefined ? {} : { url }) };
          l.titles.push(seen);
          watch.changed();
          for (const w of [...waiters])
            if (w.match(ev.title)) {
              waiters.splice(waiters.indexOf(w), 1);
              w.resolve(seen);
            }
        });
      } else {
        plain = true;
      }
      const rest = head.subarray(end + 4);
      resolve(l);
      if (rest.length > 0) {
        if (reader) reader.push(rest);
        else onAudio(rest);
      }
    });
    socket.on('close', () => {
      l.closed = true;
      watch.changed();
    });
    socket.on('error', (err) => {
      if (l.status === 0) reject(err);
    });
  });
}
