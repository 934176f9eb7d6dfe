import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { WebSocket, WebSocketServer } from 'ws';
import { REAL_CLOCK, type Clock } from '../kernel/lifecycle.js';
import type { Channel, LiveShowRecord } from '../playout/channel.js';
import type { NowPlaying } from '../playout/now-playing.js';
import type { Station } from '../playout/station.js';
import type { IcecastOutput } from '../outputs/icecast/output.js';
import type { OutputSet } from '../outputs/output-set.js';
import type { ServerMessage } from './messages.js';
import { replyRaw } from './raw-reply.js';
import { channelView, icecastOutputView, liveShowView, nextView, nowPlayingView, type ViewContext } from './views.js';

interface Client {
  ws: WebSocket;
  /** Only this channel's messages; null: all. */
  channel: string | null;
  alive: boolean;
  windowStart: number;
  messagesInWindow: number;
}

export interface FeedOptions {
  server: Server;
  station: Station;
  outputs: OutputSet;
  ctx: ViewContext;
  /** Views for one client, from its upgrade request's headers (its listen links). */
  viewsFor?: (headers: IncomingMessage['headers']) => ViewContext;
  logger: Logger;
  /** A client with more than this queued is too slow: disconnected. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** Ping period; a client that did not answer the last ping is dropped. Default 30 s. */
  pingMs?: number;
  /** Messages a client may send per second before it is disconnected. Default 20. */
  maxClientMessagesPerSecond?: number;
  /** Ping timer, flood windows and message times. Default: the real clock. */
  clock?: Clock;
}

/**
 * The now-playing WebSocket feed at `/ws` (`?channel=<id>` for one channel):
 * a `snapshot` on connect, then `track` at each song change (sent when the
 * song's first audio goes out) and `status` on air / output changes.
 */
export class Feed {
  /** Created at the first connection: ws is not needed to get on air. */
  private wss: Promise<WebSocketServer> | null = null;
  private readonly clients = new Set<Client>();
  private readonly stopPinger: () => void;
  private readonly log: Logger;
  private readonly detach: (() => void)[] = [];
  private readonly clock: Clock;
  private closing: Promise<void> | undefined;
  /** open --close()--> closed. */
  status: 'open' | 'closed' = 'open';

  constructor(private readonly opts: FeedOptions) {
    this.clock = opts.clock ?? REAL_CLOCK;
    this.log = opts.logger.child({ component: 'ws' });
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => this.upgrade(req, socket, head);
    opts.server.on('upgrade', onUpgrade);
    this.detach.push(() => opts.server.off('upgrade', onUpgrade));
    const onAdded = (c: Channel): void => this.watch(c);
    const onRemoved = (c: Channel): void => this.broadcast(c.id, { type: 'status', at: this.now(), channel: c.id, event: 'off-air', output: null });
    const onOutput = (c: Channel, o: IcecastOutput, connected: boolean): void =>
      this.broadcast(c.id, {
        type: 'status',
        at: this.now(),
        channel: c.id,
        event: connected ? 'output-connected' : 'output-disconnected',
        output: icecastOutputView(o),
      });
    opts.station.on('channel-added', onAdded);
    opts.station.on('channel-removed', onRemoved);
    const onSpare = (c: Channel, o: IcecastOutput): void =>
      this.broadcast(c.id, { type: 'status', at: this.now(), channel: c.id, event: 'output-spare', output: icecastOutputView(o) });
    opts.outputs.on('output-status', onOutput);
    opts.outputs.on('output-spare', onSpare);
    this.detach.push(() => {
      opts.station.off('channel-added', onAdded);
      opts.station.off('channel-removed', onRemoved);
      opts.outputs.off('output-status', onOutput);
      opts.outputs.off('output-spare', onSpare);
    });
    for (const c of opts.station.channels) this.watch(c);
    this.stopPinger = this.clock.every(opts.pingMs ?? 30_000, () => this.ping());
  }

  /** Close every client with a close frame (1001) and stop. A second call returns the first's promise. */
  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private now(): string {
    return this.clock.date().toISOString();
  }

  private async shutdown(): Promise<void> {
    this.status = 'closed';
    this.stopPinger();
    for (const d of this.detach) d();
    for (const c of this.clients) c.ws.close(1001, 'station stopping');
    const wss = await this.wss;
    if (wss) await new Promise<void>((resolve) => wss.close(() => resolve()));
  }

  private watch(channel: Channel): void {
    const onTrack = (np: NowPlaying): void =>
      this.broadcast(channel.id, {
        type: 'track',
        at: this.now(),
        channel: channel.id,
        nowPlaying: nowPlayingView(np, channel, this.opts.ctx),
        next: nextView(channel),
      });
    const onDeadAir = (e: { dead: boolean; song: string | null }): void =>
      this.broadcast(channel.id, {
        type: 'status',
        at: this.now(),
        channel: channel.id,
        event: e.dead ? 'dead-air' : 'audio-back',
        output: null,
        song: e.song,
      });
    const onIdle = (): void => this.broadcast(channel.id, { type: 'status', at: this.now(), channel: channel.id, event: 'idle', output: null, song: null });
    const onLive =
      (type: 'live-start' | 'live-end') =>
      (show: LiveShowRecord): void =>
        this.broadcast(channel.id, { type, at: this.now(), channel: channel.id, show: liveShowView(show) });
    const onBlock = (programme: Channel['programme']): void => this.broadcast(channel.id, { type: 'block', at: this.now(), channel: channel.id, programme });
    const onLiveStart = onLive('live-start');
    const onLiveEnd = onLive('live-end');
    channel.on('track', onTrack);
    channel.on('dead-air', onDeadAir);
    channel.on('idle', onIdle);
    channel.on('live-start', onLiveStart);
    channel.on('live-end', onLiveEnd);
    channel.on('block', onBlock);
    // Until it stops: a channel added while running goes idle -> on-air after this.
    const onStatus = (status: string): void => {
      if (status !== 'closing' && status !== 'closed') return;
      channel.off('track', onTrack);
      channel.off('dead-air', onDeadAir);
      channel.off('idle', onIdle);
      channel.off('live-start', onLiveStart);
      channel.off('live-end', onLiveEnd);
      channel.off('block', onBlock);
      channel.off('status', onStatus);
    };
    channel.on('status', onStatus);
    this.broadcast(channel.id, { type: 'status', at: this.now(), channel: channel.id, event: 'on-air', output: null });
  }

  /**
   * Runs outside fastify (node's `upgrade` event), so nothing here may throw:
   * an exception would reach the process. Every refusal is an HTTP answer.
   */
  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (req.method === 'OPTIONS') {
      // libshout's opening `OPTIONS *` with `Upgrade: TLS/1.0`: Icecast 2.4's 400 tells it to carry on without TLS (a 404 would read as a failed login).
      refuse(socket, 400, 'Bad Request', 'SCAST_BAD_REQUEST', 'no TLS upgrade here; send SOURCE or PUT');
      return;
    }
    const target = parseTarget(req.url);
    if (!target || target.pathname !== '/ws') {
      refuse(socket, 404, 'Not Found', 'SCAST_NOT_FOUND', target ? `no WebSocket at ${target.pathname.slice(0, 200)}` : 'malformed request target');
      return;
    }
    // ws answers a handshake it does not like in plain text; such requests are refused here, in our shape.
    const bad = handshakeProblem(req);
    if (bad) {
      refuse(socket, 400, 'Bad Request', 'SCAST_BAD_REQUEST', bad);
      return;
    }
    const channel = target.searchParams.get('channel');
    if (channel !== null && !this.opts.station.channel(channel)) {
      refuse(socket, 404, 'Not Found', 'SCAST_NOT_FOUND', `channel ${channel.slice(0, 64)} not found`);
      return;
    }
    this.wss ??= import('ws').then(({ WebSocketServer }) => new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false }));
    this.wss.then(
      (wss) => wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws, channel, this.opts.viewsFor?.(req.headers) ?? this.opts.ctx)),
      (err: unknown) => {
        this.log.error({ err: String(err) }, 'cannot load the WebSocket server');
        refuse(socket, 503, 'Service Unavailable', 'SCAST_INTERNAL', 'feed unavailable');
      },
    );
  }

  private connected(ws: WebSocket, channel: string | null, views: ViewContext): void {
    const client: Client = { ws, channel, alive: true, windowStart: this.clock.now(), messagesInWindow: 0 };
    this.clients.add(client);
    ws.on('pong', () => {
      client.alive = true;
    });
    ws.on('message', () => this.onClientMessage(client));
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      this.clients.delete(client);
      this.log.debug({ clients: this.clients.size }, 'feed client left');
    });
    const channels = this.opts.station.channels.filter((c) => channel === null || c.id === channel).map((c) => channelView(c, views));
    this.send(client, JSON.stringify({ type: 'snapshot', at: this.now(), channels } satisfies ServerMessage));
    this.log.debug({ clients: this.clients.size, channel }, 'feed client joined');
  }

  /** Clients have nothing to say; one that floods is cut off. */
  private onClientMessage(client: Client): void {
    const t = this.clock.now();
    if (t - client.windowStart >= 1000) {
      client.windowStart = t;
      client.messagesInWindow = 0;
    }
    client.messagesInWindow += 1;
    if (client.messagesInWindow > (this.opts.maxClientMessagesPerSecond ?? 20)) {
      this.log.warn('feed client flooding messages; disconnected');
      client.ws.close(1008, 'too many messages');
      client.ws.terminate();
    }
  }

  private broadcast(channelId: string, message: ServerMessage): void {
    if (this.clients.size === 0) return;
    const data = JSON.stringify(message); // once for every client
    for (const c of this.clients) if (c.channel === null || c.channel === channelId) this.send(c, data);
  }

  private send(client: Client, data: string): void {
    if (client.ws.readyState !== client.ws.OPEN) return;
    if (client.ws.bufferedAmount > (this.opts.maxBufferedBytes ?? 1024 * 1024)) {
      this.log.info('feed client too slow; disconnected');
      client.ws.terminate();
      this.clients.delete(client);
      return;
    }
    client.ws.send(data);
  }

  private ping(): void {
    for (const c of this.clients) {
      if (!c.alive) {
        this.log.info('feed client did not answer ping; dropped');
        c.ws.terminate();
        this.clients.delete(c);
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }
}

/** The request target as a URL, or null for one that is not a path (`//[`, `http://x`, `*`). */
function parseTarget(raw: string | undefined): URL | null {
  if (!raw || !raw.startsWith('/') || raw.startsWith('//')) return null;
  try {
    return new URL(raw, 'http://station.invalid');
  } catch {
    return null;
  }
}

/** What is wrong with a WebSocket handshake, as RFC 6455 checks it; null when nothing. */
function handshakeProblem(req: IncomingMessage): string | null {
  if (req.method !== 'GET') return `a WebSocket handshake is a GET, not ${String(req.method).slice(0, 20)}`;
  if (String(req.headers.upgrade).toLowerCase() !== 'websocket') return 'only Upgrade: websocket is served';
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || !/^[+/0-9A-Za-z]{21}[AQgw]==$/.test(key)) return 'missing or malformed Sec-WebSocket-Key';
  const version = req.headers['sec-websocket-version'];
  if (version !== '13' && version !== '8') return 'Sec-WebSocket-Version must be 13';
  return null;
}

function refuse(socket: Duplex, status: number, text: string, code: string, message: string): void {
  replyRaw(socket, status, text, { code, message }, 'end');
}
