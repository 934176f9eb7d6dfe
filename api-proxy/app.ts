import { bearer, secretMatcher } from '../src/kernel/auth.js';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import * as z from 'zod';
import { PLAYLIST_ID, SONG_MID, qualitySchema } from '../src/kernel/api-proxy-contract.js';
import { BadRequestError, NotFoundError, UnauthorizedError, errorResponse } from '../src/kernel/errors.js';
import type { CacheStatus } from '../src/kernel/kv-cache.js';
import type { Answer, QqService } from './qq/service.js';

export interface ProxyDeps {
  qq: QqService;
  token: string;
  logger: Logger;
  cacheStatus: () => CacheStatus;
  inFlight: () => number;
}

const midParams = z.object({ mid: z.string().regex(SONG_MID, 'must be a QQ Music songmid (letters and digits, up to 32)') });
const urlQuery = z.object({ quality: qualitySchema.default('C400'), fresh: z.enum(['0', '1']).default('0') }).strict();
const playlistParams = z.object({ id: z.string().regex(PLAYLIST_ID, 'must be a QQ playlist id (digits)') });
const playlistQuery = z.object({ fresh: z.enum(['0', '1']).default('0') }).strict();
const searchQuery = z.object({ q: z.string().trim().min(1, 'must not be empty').max(100), limit: z.coerce.number().int().min(1).max(50).default(10) }).strict();

function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issues = r.error.issues.map((i) => ({ where: `${where}${i.path.length ? `.${i.path.join('.')}` : ''}`, message: i.message }));
    throw new BadRequestError(issues.map((i) => `${i.where}: ${i.message}`).join('; '), issues);
  }
  return r.data;
}

function send(reply: FastifyReply, answer: Answer): FastifyReply {
  return reply.header('x-cache', answer.cache).type('application/json; charset=utf-8').send(answer.body);
}

/**
 * api-proxy's HTTP API. Versioned, provider in the path (/v1/qq/...), one
 * error shape, every route behind the bearer token except /health.
 */
export function buildProxyApp(deps: ProxyDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 16 * 1024,
    maxParamLength: 200,
  });
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    const { status, body, logIt } = errorResponse(err);
    if (logIt) deps.logger.error({ err }, 'request failed');
    void reply.code(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: { code: 'SCAST_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` } });
  });
  const tokenOk = secretMatcher(deps.token);
  app.addHook('onRequest', async (req) => {
    if (req.url === '/health') return;
    const given = bearer(req.headers.authorization);
    if (given === null || !tokenOk(given)) throw new UnauthorizedError('missing or wrong bearer token (Authorization: Bearer <API_PROXY_TOKEN>)');
  });

  app.get('/health', async () => {
    const redis = deps.cacheStatus();
    return { status: redis === 'down' ? 'degraded' : 'ok', redis, inFlight: deps.inFlight() };
  });
  app.get('/v1/qq/songs/:mid', async (req, reply) => {
    const { mid } = parse(midParams, req.params, 'params');
    return send(reply, await deps.qq.song(mid));
  });
  app.get('/v1/qq/songs/:mid/url', async (req, reply) => {
    const { mid } = parse(midParams, req.params, 'params');
    const { quality, fresh } = parse(urlQuery, req.query, 'query');
    return send(reply, await deps.qq.url(mid, quality, fresh === '1'));
  });
  app.get('/v1/qq/songs/:mid/cover', async (req, reply) => {
    const { mid } = parse(midParams, req.params, 'params');
    const picture = await deps.qq.cover(mid);
    if (!picture) throw new NotFoundError(`cover of song ${mid}`);
    return reply.header('x-cache', picture.cache).header('cache-control', 'private, max-age=86400').type(`image/${picture.type}`).send(picture.bytes);
  });
  app.get('/v1/qq/playlists/:id', async (req, reply) => {
    const { id } = parse(playlistParams, req.params, 'params');
    const { fresh } = parse(playlistQuery, req.query, 'query');
    return send(reply, await deps.qq.playlist(id, fresh === '1'));
  });
  app.get('/v1/qq/search', async (req, reply) => {
    const { q, limit } = parse(searchQuery, req.query, 'query');
    return send(reply, await deps.qq.search(q, limit));
  });
  return app;
}
