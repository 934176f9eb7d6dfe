import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { DEFAULT_METAINT, IcyWriter } from '../audio/icy.js';
import type { StreamInfo } from './icecast/protocol.js';
import { REAL_TIMERS, type Timers } from '../kernel/lifecycle.js';
import { displayTitle, type AudioSource, type NowPlaying } from '../playout/now-playing.js';

/** How long a closing hub waits for a listener to take what is queued for it. */
const CLOSE_GRACE_MS = 250;
/** Listeners whose stream start is remembered by their session id (see startOf): the latest this many. */
const STARTS_KEPT = 4096;
/** A session id a page makes up for its player: long enough not to be guessed, nothing else. */
export const SESSION_ID = /^[A-Za-z0-9_-]{16,64}$/;

interface Listener {
  socket: Socket;
  icy: IcyWriter | null;
}

export interface ListenerHubOptions {
  info: StreamInfo;
  logger: Logger;
  /** Audio a new listener gets at once, so playback starts without waiting. Default 64 KiB. */
  burstBytes?: number;
  /** A listener this far behind (bytes queued in user space) is dropped. Default 512 KiB. */
  maxQueuedBytes?: number;
  timers?: Timers;
  /** The song's picture as an absolute URL, sent as ICY `StreamUrl`; absent: none sent. */
  artUrl?: ((np: NowPlaying) => string | undefined) | undefined;
}

/**
 * The built-in listener output: serves a channel's stream to HTTP clients
 * directly, Icecast-style, so the station can be heard with no Icecast at
 * all. Clients asking with `Icy-MetaData: 1` get `StreamTitle` blocks every
 * `icy-metaint` bytes, exactly as Icecast sends them.
 */
export class ListenerHub {
  status: 'serving' | 'closed' = 'serving';
  private readonly listeners = new Set<Listener>();
  private closing: Promise<void> | undefined;
  /** Recent audio, whole frames, oldest first: the burst for new listeners. */
  private recent: { data: Buffer; pos: number }[] = [];
  private recentBytes = 0;
  /** Session id -> the stream position (s) of the first audio that listener was sent. */
  private readonly starts = new Map<string, number>();
  /** Where the next audio starts, when nothing was sent yet. */
  private lastPos = 0;
  /** Listeners served since start, and dropped for being too slow. */
  served = 0;
  dropped = 0;
  bytesSent = 0;
  private readonly log: Logger;
  private info: StreamInfo;
  private readonly onAudio = (data: Buffer, pos: number): void => this.broadcast(data, pos);
  private readonly onTrack = (np: NowPlaying): void => {
    const url = this.opts.artUrl?.(np);
    for (const l of this.listeners) l.icy?.setTitle(displayTitle(np), url);
  };
  /** A new Ogg stream's headers come next: the burst starts over with them. */
  private readonly onStreamStart = (): void => {
    this.recent = [];
    this.recentBytes = 0;
    this.burstHasHeaders = true;
  };
  /** The burst begins with the current Ogg stream's headers (else a new listener is sent them first). */
  private burstHasHeaders = false;

  constructor(
    private readonly source: AudioSource,
    private readonly opts: ListenerHubOptions,
  ) {
    this.log = opts.logger.child({ output: 'builtin', channel: source.id });
    this.info = opts.info;
    source.on('audio', this.onAudio);
    source.on('track', this.onTrack);
    source.on('stream-start', this.onStreamStart);
  }

  get count(): number {
    return this.listeners.size;
  }

  /** Distinct addresses among the listeners (AzuraCast's "unique"). */
  get unique(): number {
    return new Set([...this.listeners].map((l) => l.socket.remoteAddress)).size;
  }

  /** New station details: listeners who join from now on get them in their headers. */
  setInfo(info: StreamInfo): void {
    this.info = info;
  }

  /** Response headers, as Icecast sends them (HTTP/1.0, no chunking, so every player copes). */
  headers(icy: boolean): string {
    const { info } = this;
    const lines = [
      'HTTP/1.0 200 OK',
      `Content-Type: ${info.contentType ?? 'audio/mpeg'}`,
      'Cache-Control: no-cache, no-store',
      'Access-Control-Allow-Origin: *',
      'Connection: close',
      `icy-name: ${asciiSafe(info.name)}`,
      `icy-br: ${info.bitrateKbps}`,
      `icy-pub: ${info.public ? 1 : 0}`,
      `ice-audio-info: ice-bitrate=${info.bitrateKbps};ice-channels=${info.channels};ice-samplerate=${info.sampleRate}`,
    ];
    if (info.genre) lines.push(`icy-genre: ${asciiSafe(info.genre)}`);
    if (info.description) lines.push(`icy-description: ${asciiSafe(info.description)}`);
    if (info.url) lines.push(`icy-url: ${asciiSafe(info.url)}`);
    if (icy) lines.push(`icy-metaint: ${DEFAULT_METAINT}`);
    return `${lines.join('\r\n')}\r\n\r\n`;
  }

  /**
   * Where a listener's stream began, in seconds of the channel's stream: a
   * page that played `?sid=<id>` subtracts it from a song's `streamPos` to
   * know at which point of its own audio element the song is heard.
   */
  startOf(sid: string): number | undefined {
    return this.starts.get(sid);
  }

  /** Take over a client's socket (after the HTTP request was read) and start streaming. */
  add(socket: Socket, wantsIcy: boolean, headOnly = false, sid?: string): void {
    // A request read while the channel was closing: nothing will ever be sent to it.
    if (this.status === 'closed') {
      socket.destroy();
      return;
    }
    socket.write(this.headers(wantsIcy));
    if (headOnly) {
      socket.end();
      return;
    }
    const listener: Listener = { socket, icy: wantsIcy ? new IcyWriter(DEFAULT_METAINT) : null };
    if (listener.icy && this.source.nowPlaying) listener.icy.setTitle(displayTitle(this.source.nowPlaying), this.opts.artUrl?.(this.source.nowPlaying));
    this.listeners.add(listener);
    this.served += 1;
    socket.setNoDelay(true);
    const remove = (): void => {
      if (this.listeners.delete(listener)) this.log.info({ listeners: this.listeners.size }, 'listener left');
    };
    socket.on('close', remove);
    socket.on('error', remove);
    this.log.info({ listeners: this.listeners.size, icy: wantsIcy, remote: socket.remoteAddress }, 'listener joined');
    if (sid !== undefined && SESSION_ID.test(sid)) {
      this.starts.delete(sid);
      this.starts.set(sid, this.recent[0]?.pos ?? this.lastPos);
      if (this.starts.size > STARTS_KEPT) this.starts.delete(this.starts.keys().next().value!);
    }
    const headers = this.source.headers;
    if (headers && !this.burstHasHeaders) this.send(listener, headers);
    for (const chunk of this.recent) this.send(listener, chunk.data);
  }

  /** Disconnect everyone (channel ended); resolves once every listener's socket has closed. */
  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    this.status = 'closed';
    this.source.off('audio', this.onAudio);
    this.source.off('track', this.onTrack);
    this.source.off('stream-start', this.onStreamStart);
    const gone = [...this.listeners].map(({ socket }) => {
      // end() sends what is queued, then FIN; a listener that does not read is cut soon after.
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.end();
      const cut = (this.opts.timers ?? REAL_TIMERS).after(CLOSE_GRACE_MS, () => socket.destroy());
      return socket.closed ? (cut(), Promise.resolve()) : closed.finally(cut);
    });
    this.listeners.clear();
    await Promise.all(gone);
  }

  private broadcast(data: Buffer, pos: number): void {
    this.recent.push({ data, pos });
    this.lastPos = pos;
    this.recentBytes += data.length;
    const burst = this.opts.burstBytes ?? 64 * 1024;
    while (this.recent.length > 1 && this.recentBytes - this.recent[0]!.data.length >= burst) {
      this.recentBytes -= this.recent.shift()!.data.length;
      this.burstHasHeaders = false;
    }
    for (const l of this.listeners) this.send(l, data);
  }

  private send(l: Listener, data: Buffer): void {
    if (l.socket.writableLength > (this.opts.maxQueuedBytes ?? 512 * 1024)) {
      this.dropped += 1;
      this.listeners.delete(l);
      this.log.info({ remote: l.socket.remoteAddress }, 'listener too slow; disconnected');
      l.socket.destroy();
      return;
    }
    if (l.icy) for (const part of l.icy.write(data)) l.socket.write(part);
    else l.socket.write(data);
    this.bytesSent += data.length;
  }
}

/** Header values must be one line; non-ASCII is sent as UTF-8 bytes, which players read as such. */
function asciiSafe(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}
