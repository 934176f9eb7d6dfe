/**
 * Icecast source clients as the tests play them: a raw request on a socket
 * (an attacker's, or a refusal to read), and ffmpeg's own icecast output
 * (a real DJ's client).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

/** Send `head` (and `body`), return what the station answered and when it closed. */
export function sourceRequest(
  port: number,
  head: string | Buffer,
  body?: Buffer,
  opts: { slowMs?: number; from?: string } = {},
): Promise<{ status: number; text: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port, ...(opts.from ? { localAddress: opts.from } : {}) });
    let got = '';
    s.on('connect', async () => {
      const bytes = typeof head === 'string' ? Buffer.from(head, 'latin1') : head;
      if (opts.slowMs) {
        for (const b of bytes) {
          if (s.destroyed) return;
          s.write(Buffer.from([b]));
          await new Promise((r) => setTimeout(r, opts.slowMs));
        }
      } else s.write(bytes);
      if (body && !s.destroyed) s.write(body);
    });
    s.on('data', (d) => (got += d.toString('utf8')));
    s.on('error', () => undefined);
    s.on('close', () => resolve({ status: Number(got.split(' ')[1]) || 0, text: got, ms: Date.now() - t0 }));
  });
}

export const basicAuth = (user: string, pw: string): string => `Authorization: Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}\r\n`;

/** A SOURCE request head for `mount` signed in as `user`. */
export const sourceHead = (mount: string, user: string, pw: string, type = 'audio/mpeg'): string =>
  `SOURCE ${mount} HTTP/1.0\r\n${basicAuth(user, pw)}Content-Type: ${type}\r\n\r\n`;

export interface FfmpegDjOptions {
  seconds: number;
  /** The tone's frequency. Default 1000 Hz. */
  freq?: number;
  /** Digital silence instead of a tone. */
  silence?: boolean;
  /** Sent as ice-name. */
  name?: string;
  contentType?: string;
  format?: string;
  codec?: string;
  /** Paced in real time (-re). Default true. */
  realTime?: boolean;
}

/** ffmpeg broadcasting a tone (MP3 by default) to `url` (icecast://user:pw@host:port/mount, or `pipe:1`: its stdout), paced in real time. */
export function ffmpegDj(url: string, opts: FfmpegDjOptions): ChildProcess {
  const input = opts.silence ? `anullsrc=r=44100:cl=stereo:d=${opts.seconds}` : `sine=frequency=${opts.freq ?? 1000}:duration=${opts.seconds}`;
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    ...(opts.realTime === false ? [] : ['-re']),
    '-f',
    'lavfi',
    '-i',
    input,
    '-af',
    'volume=0.5',
    '-ac',
    '2',
    '-c:a',
    opts.codec ?? 'libmp3lame',
    '-b:a',
    '128k',
  ];
  if (opts.name) args.push('-ice_name', opts.name);
  args.push('-content_type', opts.contentType ?? 'audio/mpeg', '-f', opts.format ?? 'mp3', url);
  return spawn('ffmpeg', args, { stdio: ['ignore', url === 'pipe:1' ? 'pipe' : 'ignore', 'pipe'] });
}
