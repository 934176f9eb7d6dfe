import path from 'node:path';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import * as z from 'zod';
import { zodIssues } from '../config/env.js';
import { resolveTrackPath } from '../config/playlist-file.js';
import { trackSchema } from '../config/playlist.js';
import { BadRequestError, ForbiddenError, NotFoundError, ScastError, UnauthorizedError } from '../errors.js';
import type { Channel } from '../playout/channel.js';
import type { Station } from '../playout/station.js';
import type { OutputSet } from '../outputs/output-set.js';
import { bearer, secretMatcher } from './auth.js';
import { Feed, type FeedOptions } from './feed.js';
import { PAGE_HTML } from './page.js';
import { channelView, healthView, type ViewContext } from './views.js';

export interface AppDeps {
  station: Station;
  outputs: OutputSet;
  logger: Logger;
  /** Base URL listeners reach this server at, for listen URLs. */
  publicUrl: () => string;
  /** Icecast servers' public bases, for listen URLs. */
  icecastUrls: readonly string[];
  /** Bearer token for control routes; undefined: control is disabled (403). */
  controlToken?: string | undefined;
  /** Builds the Prometheus registry served at /metrics (on the first scrape). */
  metrics?: (() => Promise<Registry>) | undefined;
  /** Limits of the WebSocket feed (tests tighten them). */
  feed?: Partial<Pick<FeedOptions, 'maxBufferedBytes' | 'pingMs' | 'maxClientMessagesPerSecond'>>;
}

const channelParams = z.object({ id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'not a channel id') });

/**
 * The station's HTTP server: the built-in listener output at each channel's
 * mount, the JSON API, control, the WebSocket feed and the listening page.
 * Built apart from listen() so tests can inject requests.
 */
export function buildApp(deps: AppDeps): FastifyInstance & { feed: Feed } {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Listeners and API polling are routine: our own code logs what matters.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
  });
  const ctx: ViewContext = { outputsOf: (c) => deps.outputs.of(c), publicUrl: deps.publicUrl, icecastUrls: deps.icecastUrls };

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string; validation?: unknown }, _req, reply) => {
    const status = err instanceof ScastError ? err.statusCode : (err.statusCode ?? 500);
    if (status >= 500) deps.logger.error({ err: err.message }, 'request failed');
    const code = err instanceof ScastError ? err.code : status < 500 ? 'SCAST_BAD_REQUEST' : 'SCAST_INTERNAL';
    const body: { error: { code: string; message: string; issues?: unknown } } = { error: { code, message: status >= 500 ? 'internal error' : err.message } };
    if (err instanceof BadRequestError) body.error.issues = err.issues;
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

  app.get('/health', async (_req, reply) => {
    const body = healthView(deps.station.channels, ctx);
    return reply.code(body.status === 'ok' ? 200 : 503).send(body);
  });
  let registry: Promise<Registry> | null = null;
  app.get('/metrics', async (_req, reply) => {
    if (!deps.metrics) throw new NotFoundError('metrics');
    registry ??= deps.metrics();
    const r = await registry;
    return reply.type(r.contentType).send(await r.metrics());
  });
  app.get('/api/channels', async () => ({ channels: deps.station.channels.map((c) => channelView(c, ctx)) }));
  app.get('/api/channels/:id', async (req) => {
    const channel = channelOf(req);
    return { ...channelView(channel, ctx), history: channel.history };
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
      if (!abs) throw new BadRequestError(`body.path: "${track.path}" points outside the playlists folder`, [{ where: 'body.path', message: 'outside the playlists folder' }]);
      track.path = abs;
    }
    channel.enqueue(track);
    return reply.code(202).send({ queued: track });
  });
  app.post('/api/reload', { preHandler: control }, async (_req, reply) => {
    await deps.station.rescan();
    return reply.code(200).send({ channels: deps.station.channels.map((c) => c.id) });
  });

  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(PAGE_HTML));

  // Every other GET may be a mount of the built-in listener output.
  const serveMount = (head: boolean) => async (req: FastifyRequest, reply: FastifyReply) => {
    const mount = decodeURIComponent(req.url.split('?')[0] ?? '');
    const channel = deps.station.byMount(mount);
    const hub = channel ? deps.outputs.of(channel)?.hub : undefined;
    if (!hub) throw new NotFoundError(`mount ${mount}`);
    reply.hijack();
    hub.add(req.raw.socket, req.headers['icy-metadata'] === '1', head);
  };
  app.route({ method: 'GET', url: '/*', handler: serveMount(false), exposeHeadRoute: false });
  app.route({ method: 'HEAD', url: '/*', handler: serveMount(true) });

  const feed = new Feed({ ...deps.feed, server: app.server, station: deps.station, outputs: deps.outputs, ctx, logger: deps.logger });
  app.addHook('onClose', async () => feed.close());
  return Object.assign(app, { feed });
}
