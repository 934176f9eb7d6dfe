import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ScastError } from '../errors.js';
import type { Channel } from '../playout/channel.js';
import type { Station } from '../playout/station.js';
import type { OutputSet } from '../outputs/output-set.js';
import { channelView, healthView } from './views.js';

export interface AppDeps {
  station: Station;
  outputs: OutputSet;
  logger: Logger;
  /** Base URL listeners reach this server at, for listen URLs. */
  publicUrl: () => string;
  /** Icecast servers' public bases, for listen URLs. */
  icecastUrls: readonly string[];
}

/**
 * The station's HTTP server: the built-in listener output at each channel's
 * mount, the JSON API and health. Built apart from listen() so tests can
 * inject requests.
 */
export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Listeners and API polling are routine: our own code logs what matters.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    const status = err instanceof ScastError ? err.statusCode : (err.statusCode ?? 500);
    if (status >= 500) deps.logger.error({ err }, 'request failed');
    void reply.code(status).send({ error: { code: err.code ?? 'SCAST_INTERNAL', message: err.message } });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: { code: 'SCAST_NOT_FOUND', message: `no route or mount at ${req.url}` } });
  });

  const view = (c: Channel) => channelView(c, deps.outputs.of(c), deps.publicUrl(), deps.icecastUrls);

  app.get('/health', async (_req, reply) => {
    const body = healthView(deps.station.channels, (c) => deps.outputs.of(c));
    return reply.code(body.status === 'ok' ? 200 : 503).send(body);
  });
  app.get('/api/channels', async () => ({ channels: deps.station.channels.map(view) }));
  app.get<{ Params: { id: string } }>('/api/channels/:id', async (req, reply) => {
    const channel = deps.station.channel(req.params.id);
    if (!channel) return reply.code(404).send({ error: { code: 'SCAST_NOT_FOUND', message: `channel ${req.params.id} not found` } });
    return { ...view(channel), history: channel.history };
  });

  app.get('/', async (_req, reply) => {
    const items = deps.station.channels
      .map((c) => `<li><a href="${escapeHtml(c.playlist.mount)}">${escapeHtml(c.playlist.name)}</a> — ${escapeHtml(c.nowPlaying?.title ?? 'silence')}</li>`)
      .join('');
    return reply.type('text/html; charset=utf-8').send(`<!doctype html><meta charset="utf-8"><title>sCast</title><h1>sCast</h1><ul>${items}</ul>`);
  });

  // Every other GET may be a mount of the built-in listener output.
  const serveMount = (method: 'GET' | 'HEAD') => async (req: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => {
    const mount = decodeURIComponent(req.url.split('?')[0] ?? '');
    const channel = deps.station.byMount(mount);
    const hub = channel ? deps.outputs.of(channel)?.hub : undefined;
    if (!hub) {
      return reply.code(404).send({ error: { code: 'SCAST_NOT_FOUND', message: `no route or mount at ${mount}` } });
    }
    reply.hijack();
    hub.add(req.raw.socket, req.headers['icy-metadata'] === '1', method === 'HEAD');
  };
  app.route({ method: 'GET', url: '/*', handler: serveMount('GET'), exposeHeadRoute: false });
  app.route({ method: 'HEAD', url: '/*', handler: serveMount('HEAD') });
  return app;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
