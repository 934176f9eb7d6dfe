import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError } from '../kernel/errors.js';
import type { Station } from '../playout/station.js';
import { azNowPlaying, azSong, azStation, channelByStation } from './azuracast.js';
import { ListenerRequests, RequestRefused } from './requests.js';
import { artView, type ViewContext } from './views.js';

/**
 * AzuraCast's public read routes, so its widgets, bots and apps work
 * against sCast unchanged (see azuracast.ts). Anyone may read them, from
 * any page: AzuraCast allows every origin here too.
 */
export function nowPlayingRoutes(app: FastifyInstance, station: Station, viewsOf: (req: FastifyRequest) => ViewContext, requests: ListenerRequests): void {
  const channelOf = (req: FastifyRequest) => {
    const name = (req.params as { station: string }).station;
    const channel = channelByStation(station.channels, name);
    if (!channel) throw new NotFoundError(`station ${JSON.stringify(name.slice(0, 64))}`);
    return channel;
  };
  const params = { type: 'object', properties: { station: { type: 'string', maxLength: 64 } }, required: ['station'] } as const;
  app.get('/api/nowplaying', async (req) => {
    const ctx = viewsOf(req);
    return station.channels.map((c) => azNowPlaying(c, ctx));
  });
  app.get('/api/nowplaying/:station', { schema: { params } }, async (req) => {
    const ctx = viewsOf(req);
    return azNowPlaying(channelOf(req), ctx);
  });
  // AzuraCast's static copy, which many widgets poll (`/api/nowplaying_static/<shortcode>.json`).
  app.get(
    '/api/nowplaying_static/:file',
    { schema: { params: { type: 'object', properties: { file: { type: 'string', maxLength: 70 } }, required: ['file'] } } },
    async (req) => {
      const file = (req.params as { file: string }).file;
      const name = file.endsWith('.json') ? file.slice(0, -5) : file;
      const channel = channelByStation(station.channels, name);
      if (!channel) throw new NotFoundError(`station ${JSON.stringify(name.slice(0, 64))}`);
      const ctx = viewsOf(req);
      return azNowPlaying(channel, ctx);
    },
  );
  // The art of the song on air, as a redirect (AzuraCast's /api/nowplaying/<station>/art).
  app.get('/api/nowplaying/:station/art', { schema: { params } }, async (req, reply) => {
    const c = channelOf(req);
    return reply.header('cache-control', 'no-cache').redirect(artView(c.nowPlaying, c, viewsOf(req)).coverUrl, 302);
  });
  app.get('/api/stations', async (req) => station.channels.map((c) => azStation(c, viewsOf(req))));
  app.get('/api/station/:station', { schema: { params } }, async (req) => azStation(channelOf(req), viewsOf(req)));

  // Requests answer in AzuraCast's shapes, success and refusal alike: its widgets show `message`.
  const refuse = (reply: FastifyReply, err: unknown): FastifyReply => {
    const e = err instanceof RequestRefused ? err : err instanceof NotFoundError ? new RequestRefused('SCAST_NOT_FOUND', err.message, 404) : null;
    if (!e) throw err;
    if (e.retryAfterS) void reply.header('retry-after', String(e.retryAfterS));
    return reply.code(e.statusCode).send({
      code: e.statusCode,
      type: e.code,
      message: e.message,
      formatted_message: null,
      extra_data: [],
      success: false,
      error: { code: e.code, message: e.message },
    });
  };
  const listQuery = {
    type: 'object',
    properties: {
      searchPhrase: { type: 'string', maxLength: 200 },
      page: { type: 'integer', minimum: 1, maximum: 100_000 },
      per_page: { type: 'integer', minimum: 1, maximum: 1000 },
    },
  } as const;
  app.get('/api/station/:station/requests', { schema: { params, querystring: listQuery } }, async (req, reply) => {
    try {
      const c = channelOf(req);
      if (!requests.limits(c)) throw new RequestRefused('SCAST_REQUESTS_OFF', `channel ${c.id} does not take requests`, 403);
      const q = req.query as { searchPhrase?: string; page?: number; per_page?: number };
      const found = requests.list(c, q.searchPhrase);
      const per = q.per_page ?? 1000;
      const page = found.slice(((q.page ?? 1) - 1) * per, (q.page ?? 1) * per);
      const ctx = viewsOf(req);
      const base = `${ctx.publicUrl()}/api/station/${encodeURIComponent(c.id)}/request/`;
      void reply.header('x-total-count', String(found.length));
      return page.map((r) => ({
        request_id: r.id,
        request_url: `${base}${r.id}`,
        song: azSong({ ...r, artist: r.artist ?? undefined, album: r.album ?? undefined }, artView(null, c, ctx).coverUrl),
      }));
    } catch (err) {
      return refuse(reply, err);
    }
  });
  const askParams = {
    type: 'object',
    properties: { station: { type: 'string', maxLength: 64 }, id: { type: 'string', maxLength: 64 } },
    required: ['station', 'id'],
  } as const;
  app.post('/api/station/:station/request/:id', { schema: { params: askParams } }, async (req, reply) => {
    try {
      const c = channelOf(req);
      const { song, position } = requests.ask(c, (req.params as { id: string }).id, req.raw.socket.remoteAddress);
      req.log.info({ channel: c.id, song: song.title, position }, 'listener request queued');
      const message = `Your request for "${song.title}" has been submitted and will play soon.`;
      return { success: true, message, formatted_message: escapeHtml(message), position };
    } catch (err) {
      return refuse(reply, err);
    }
  });
}

/** AzuraCast's widgets put `formatted_message` into the page as HTML: a title must stay text there. */
function escapeHtml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
