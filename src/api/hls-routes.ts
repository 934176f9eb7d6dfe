import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HlsOutput } from '../outputs/hls/hls-output.js';
import { NotFoundError } from '../kernel/errors.js';

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const KEY = /^(aac)_\d{2,3}(?:_\d)?$/;
const SEGMENT = /^[0-9a-f]{8}-\d{1,12}\.aac$/;
const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';

/**
 * HLS at `/hls/<channel id>/live.m3u8`, as AzuraCast serves it: the master
 * and media playlists are never cached (a live playlist changes every
 * segment), segments for ever (their names are unique to a channel's run).
 * Readable from any origin: web players (hls.js) fetch them from pages
 * elsewhere.
 */
export function hlsRoutes(app: FastifyInstance, hlsOf: (channelId: string) => HlsOutput | null | undefined): void {
  const output = (req: FastifyRequest): HlsOutput => {
    const { id } = req.params as { id: string };
    const hls = ID.test(id) ? hlsOf(id) : null;
    if (!hls) throw new NotFoundError('HLS stream');
    return hls;
  };
  const send = (reply: FastifyReply, type: string, cache: string, body: string | Buffer) =>
    reply.type(type).header('cache-control', cache).header('access-control-allow-origin', '*').header('x-content-type-options', 'nosniff').send(body);
  const params = (names: string[]) => ({
    schema: { params: { type: 'object', properties: Object.fromEntries(names.map((n) => [n, { type: 'string', maxLength: 80 }])), required: names } },
  });

  app.get('/hls/:id/live.m3u8', params(['id']), async (req, reply) => send(reply, PLAYLIST_TYPE, 'no-cache', output(req).master()));
  app.get('/hls/:id/:key/index.m3u8', params(['id', 'key']), async (req, reply) => {
    const { key } = req.params as { key: string };
    const body = KEY.test(key) ? output(req).media(key) : null;
    if (body === null) throw new NotFoundError('HLS playlist');
    return send(reply, PLAYLIST_TYPE, 'no-cache', body);
  });
  app.get('/hls/:id/:key/:name', params(['id', 'key', 'name']), async (req, reply) => {
    const { key, name } = req.params as { key: string; name: string };
    const hls = output(req);
    const data = KEY.test(key) && SEGMENT.test(name) ? hls.segment(key, name) : null;
    if (!data) throw new NotFoundError('HLS segment');
    hls.seen(`${req.ip} ${String(req.headers['user-agent'] ?? '').slice(0, 200)}`);
    return send(reply, 'audio/aac', 'public, max-age=31536000, immutable', data);
  });
}
