import path from 'node:path';
import type { Duplex } from 'node:stream';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import * as z from 'zod';
import { zodIssues } from '../kernel/env-schema.js';
import { resolveTrackPath } from '../config/playlist-file.js';
import { trackSchema } from '../config/playlist.js';
import { BadRequestError, ForbiddenError, NotFoundError, UnauthorizedError, errorResponse } from '../kernel/errors.js';
import type { Channel } from '../playout/channel.js';
import type { Station } from '../playout/station.js';
import type { OutputSet } from '../outputs/output-set.js';
import { bearer, secretMatcher } from '../kernel/auth.js';
import { ConnectionGuard, type ConnectionLimits } from './connection-guard.js';
import { SESSION_ID } from '../outputs/listeners.js';
import type { ListenerStats } from '../outputs/listener-stats.js';
import { replyRaw } from './raw-reply.js';
import { Feed, type FeedOptions } from './feed.js';
import { FAVICON_SVG, PAGE_HTML } from './page.js';
import { listenFile, LISTEN_FILE } from './listen-files.js';
import { nowPlayingRoutes } from './nowplaying-routes.js';
import { artRoutes } from './art-routes.js';
import { hlsRoutes } from './hls-routes.js';
import type { ArtStore } from '../acquire/art/art-store.js';
import type { ArtLinks } from '../outputs/art-links.js';
import { ListenerRequests } from './requests.js';
import { viewsFor } from './public-base.js';
import { channelView, healthView, historyView, liveShowView, type ViewContext } from './views.js';
import { liveRoutes } from './live-routes.js';
import { routeSources } from '../live/front-door.js';
import type { LiveIngest } from '../live/ingest.js';

export interface AppDeps {
  station: Station;
  outputs: OutputSet;
  logger: Logger;
  /** Base URL listeners reach this server at, for listen URLs, when the request does not say. */
  publicUrl: () => string;
  /** PUBLIC_URL, when configured: used for every client instead of the host it came in on. */
  fixedPublicUrl?: string | undefined;
  /** Icecast servers' public bases, for listen URLs. */
  icecastUrls: readonly string[];
  /** Bearer token for control routes; undefined: control is disabled (403). */
  controlToken?: string | undefined;
  /** Builds the Prometheus registry served at /metrics (on the first scrape). */
  metrics?: (() => Promise<Registry>) | undefined;
  /** Limits of the WebSocket feed (tests tighten them). */
  feed?: Partial<Pick<FeedOptions, 'maxBufferedBytes' | 'pingMs' | 'maxClientMessagesPerSecond'>>;
  /** Connection caps and timeouts; defaults suit a station facing the internet. */
  http?: Partial<HttpLimits>;
  /** The station's one connection guard, when it has other listening sockets (LIVE_PORT); else the app makes its own. */
  guard?: ConnectionGuard | undefined;
  /** DJs' live sources: SOURCE/PUT on this port, title updates at /admin/metadata. */
  live?: LiveIngest | undefined;
  /** Listener figures over 24 h, with Icecast's counts. */
  stats?: ListenerStats | undefined;
  /** Cover art: where pictures are kept, and which stands for a song. */
  art?: { store: ArtStore; links: ArtLinks } | undefined;
}

export interface HttpLimits extends ConnectionLimits {
  /** A client must send its whole request head within this. */
  headersTimeoutMs: number;
  /** A connection with no traffic either way for this long is closed (not listeners: they always get audio). */
  idleTimeoutMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = { maxConnections: 4096, maxPerAddress: 64, headersTimeoutMs: 10_000, idleTimeoutMs: 15_000 };

const channelParams = z.object({ id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'not a channel id') });

/**
 * The station's HTTP server: the built-in listener output at each channel's
 * mount, the JSON API, control, the WebSocket feed and the listening page.
 * Built apart from listen() so tests can inject requests.
 */
export function buildApp(deps: AppDeps): FastifyInstance & { feed: Feed; guard: ConnectionGuard } {
  const limits = { ...DEFAULT_HTTP_LIMITS, ...deps.http };
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Listeners and API polling are routine: our own code logs what matters.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    // Slow or idle clients are cut off quickly: each holds a descriptor.
    // Node checks these every `connectionsCheckingInterval`, 30 s by default.
    // No Host required: Icecast does not ask for one, and node's own refusal is not in our error shape.
    http: { headersTimeout: limits.headersTimeoutMs, connectionsCheckingInterval: 1000, maxHeaderSize: 16 * 1024, requireHostHeader: false },
    requestTimeout: limits.headersTimeoutMs + 5000,
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: 5000,
    clientErrorHandler: clientError,
    // Targets the router refuses before any route runs (bad escapes, over-long ids): our shape too.
    frameworkErrors: (err, _req, reply: FastifyReply) => {
      void reply.code(400).send({
        error: { code: 'SCAST_BAD_REQUEST', message: err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path segment is too long' : 'malformed request target' },
      });
    },
  });
  const guard = deps.guard ?? new ConnectionGuard(limits, deps.logger.child({ component: 'http' }));
  guard.attach(app.server);
  if (deps.live) {
    const live = deps.live;
    routeSources(app.server, limits.headersTimeoutMs, (socket, first) => live.accept(socket, first, (s) => guard.busy(s)));
    liveRoutes(app, deps.station, live);
  }
  const ctx: ViewContext = {
    outputsOf: (c) => deps.outputs.of(c),
    publicUrl: deps.publicUrl,
    icecastUrls: deps.icecastUrls,
    stats: deps.stats,
    art: deps.art?.links,
  };

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string; validation?: unknown }, _req, reply) => {
    const { status, body } = errorResponse(err);
    if (status >= 500) deps.logger.error({ err: err.message }, 'request failed');
    void reply.code(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: { code: 'SCAST_NOT_FOUND', message: `no route or mount at ${req.url.split('?')[0]}` } });
  });

  const channelOf = (req: FastifyRequest): Channel => {
    const p = channelParams.safeParse(req.params);
    if (!p.success) throw new BadRequestError('invalid channel id', zodIssues(p.error, 'params.'));
    const channel = deps.station.channel(p.data.id);
    if (!channel) throw new NotFoundError(`channel ${p.data.id}`);
    return channel;
  };
  const tokenOk = deps.controlToken ? secretMatcher(deps.controlToken) : null;
  const control = async (req: FastifyRequest): Promise<void> => {
    if (!tokenOk) throw new ForbiddenError('control is disabled: set CONTROL_TOKEN to enable skip, queue and reload');
    const given = bearer(req.headers.authorization);
    if (given === null || !tokenOk(given)) throw new UnauthorizedError('missing or wrong bearer token (Authorization: Bearer <CONTROL_TOKEN>)');
  };

  app.get('/health', async (req, reply) => {
    const body = healthView(deps.station.channels, viewsFor(ctx, req.headers, deps.fixedPublicUrl));
    return reply.code(body.status === 'ok' ? 200 : 503).send(body);
  });
  let registry: Promise<Registry> | null = null;
  app.get('/metrics', async (_req, reply) => {
    if (!deps.metrics) throw new NotFoundError('metrics');
    registry ??= deps.metrics();
    const r = await registry;
    return reply.type(r.contentType).send(await r.metrics());
  });
  const viewsOf = (req: FastifyRequest): ViewContext => viewsFor(ctx, req.headers, deps.fixedPublicUrl);
  // Read routes answer any origin: now-playing widgets live on other sites (AzuraCast does the same).
  app.addHook('onSend', async (req, reply) => {
    if ((req.method === 'GET' || req.method === 'HEAD') && req.url.startsWith('/api/')) void reply.header('access-control-allow-origin', '*');
  });
  nowPlayingRoutes(app, deps.station, viewsOf, new ListenerRequests(deps.station));
  app.get('/api/channels', async (req) => ({ channels: deps.station.channels.map((c) => channelView(c, viewsOf(req))) }));
  app.get('/api/channels/:id', async (req) => {
    const channel = channelOf(req);
    return { ...channelView(channel, viewsOf(req)), history: historyView(channel, viewsOf(req)), shows: channel.shows.map(liveShowView) };
  });

  app.get('/api/channels/:id/listeners', async (req) => {
    const channel = channelOf(req);
    if (!deps.stats) throw new NotFoundError('listener figures');
    return deps.stats.of(channel.id, channel.playlist.mount, deps.outputs.of(channel)?.hub?.count ?? 0);
  });
  // Where a page's own player started in the channel's stream (it played the mount with ?sid=...): titles change as it hears each seam.
  app.get('/api/channels/:id/listeners/:sid', async (req) => {
    const channel = channelOf(req);
    const sid = (req.params as { sid: string }).sid;
    const streamPos = SESSION_ID.test(sid) ? deps.outputs.of(channel)?.hub?.startOf(sid) : undefined;
    if (streamPos === undefined) throw new NotFoundError(`listener ${JSON.stringify(sid.slice(0, 64))} on ${channel.id}`);
    return { streamPos };
  });
  app.post('/api/channels/:id/skip', { preHandler: control }, async (req, reply) => {
    const channel = channelOf(req);
    const skipped = channel.nowPlaying?.title ?? null;
    channel.skip();
    return reply.code(202).send({ skipped });
  });
  app.post('/api/channels/:id/queue', { preHandler: control }, async (req, reply) => {
    const channel = channelOf(req);
    const parsed = trackSchema.safeParse(req.body);
    if (!parsed.success) throw new BadRequestError('invalid track', zodIssues(parsed.error, 'body.'));
    const track = parsed.data;
    if (track.source === 'file') {
      const file = deps.station.fileOf(channel);
      const abs = file ? resolveTrackPath(track.path, path.dirname(file), deps.station.roots) : null;
      if (!abs)
        throw new BadRequestError(`body.path: "${track.path}" points outside the playlists folder`, [
          { where: 'body.path', message: 'outside the playlists folder' },
        ]);
      track.path = abs;
    }
    const position = channel.enqueue(track);
    // Not the track as stored: its path is now absolute, its URL may carry a token.
    return reply.code(202).send({ queued: { source: track.source, title: track.title ?? null }, position });
  });
  app.post('/api/reload', { preHandler: control }, async (_req, reply) => {
    await deps.station.rescan();
    return reply.code(200).send({ channels: deps.station.channels.map((c) => c.id) });
  });

  const page = (reply: FastifyReply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(PAGE_HTML);
  app.get('/', async (_req, reply) => page(reply));
  // Every browser asks for it; a 404 there is noise in the operator's first look.
  artRoutes(app, deps.art?.store ?? null);
  hlsRoutes(app, (id) => {
    const channel = deps.station.channel(id);
    return channel ? deps.outputs.of(channel)?.hls : null;
  });
  app.get('/favicon.ico', async (_req, reply) => reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').send(FAVICON_SVG));

  // Every other GET may be a mount of the built-in listener output.
  const listening = new WeakSet<object>();
  const serveMount = (head: boolean) => async (req: FastifyRequest, reply: FastifyReply) => {
    const socket = req.raw.socket;
    if (listening.has(socket)) {
      // A request pipelined behind a stream: one connection is one listener.
      socket.destroy();
      reply.hijack();
      return;
    }
    const mount = mountOf(req.url);
    const hub = deps.outputs.hubAt(mount);
    if (!hub) {
      const file = LISTEN_FILE.exec(mount);
      const of = file ? deps.station.byMount(file[1]!) : undefined;
      // The player page opened at one channel: /<channel id>.
      if (!of && deps.station.channel(mount.slice(1)) && channelParams.safeParse({ id: mount.slice(1) }).success) return page(reply);
      // Cut: a 5000-character path must not come back as a 5000-character error.
      if (!file || !of) throw new NotFoundError(`mount ${mount.length > 120 ? `${mount.slice(0, 120)}…` : mount}`);
      const view = channelView(of, viewsOf(req));
      const { type, body } = listenFile(file[2]!, of.playlist.name, [...view.listen.icecast, ...(view.listen.builtin ? [view.listen.builtin] : [])]);
      return reply
        .type(`${type}; charset=utf-8`)
        .header('cache-control', 'no-cache')
        .header('content-disposition', `inline; filename="${path.basename(file[1]!).replace(/[^\w.-]/g, '_')}.${file[2]}"`)
        .send(body);
    }
    reply.hijack();
    if (!head) {
      listening.add(socket);
      // A listener always receives audio; the hub drops one that stops reading.
      socket.setTimeout(0);
    }
    const sid = (req.query as Record<string, unknown>).sid;
    hub.add(socket, req.headers['icy-metadata'] === '1', head, typeof sid === 'string' ? sid : undefined);
  };
  app.route({ method: 'GET', url: '/*', handler: serveMount(false), exposeHeadRoute: false });
  app.route({ method: 'HEAD', url: '/*', handler: serveMount(true) });

  const feed = new Feed({
    ...deps.feed,
    server: app.server,
    station: deps.station,
    outputs: deps.outputs,
    ctx,
    viewsFor: (headers) => viewsFor(ctx, headers, deps.fixedPublicUrl),
    logger: deps.logger,
  });
  // preClose, not onClose: an open WebSocket keeps the HTTP server from closing, so subscribers are closed first.
  app.addHook('preClose', async () => feed.close());
  return Object.assign(app, { feed, guard });
}

/** The mount a listener asked for; a target that does not decode is the client's error. */
function mountOf(url: string): string {
  const raw = url.split('?')[0] ?? '';
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new BadRequestError(`malformed percent-encoding in the path ${JSON.stringify(raw.slice(0, 200))}`);
  }
}

const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'the request head did not arrive in time'],
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'request head over 16 KiB'],
};

/**
 * What node's HTTP parser refuses before any route runs (bad request line,
 * bad header, oversized head, timeout) answered in the project's error shape.
 */
function clientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, text, why] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'Bad Request', `malformed request (${err.code ?? 'unparseable'})`];
  replyRaw(socket, status, text, { code: 'SCAST_BAD_REQUEST', message: why }, 'destroy');
}
