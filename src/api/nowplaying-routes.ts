import type { FastifyInstance, FastifyRequest } from 'fastify';
import { NotFoundError } from '../kernel/errors.js';
import type { Station } from '../playout/station.js';
import { azNowPlaying, azStation, channelByStation } from './azuracast.js';
import type { ViewContext } from './views.js';

/** The image a song without art is shown with (AzuraCast's "default album art"). */
export const DEFAULT_ART_PATH = '/art/default.svg';

/**
 * AzuraCast's public read routes, so its widgets, bots and apps work
 * against sCast unchanged (see azuracast.ts). Anyone may read them, from
 * any page: AzuraCast allows every origin here too.
 */
export function nowPlayingRoutes(app: FastifyInstance, station: Station, viewsOf: (req: FastifyRequest) => ViewContext): void {
  const channelOf = (req: FastifyRequest) => {
    const name = (req.params as { station: string }).station;
    const channel = channelByStation(station.channels, name);
    if (!channel) throw new NotFoundError(`station ${JSON.stringify(name.slice(0, 64))}`);
    return channel;
  };
  const art = (ctx: ViewContext): string => `${ctx.publicUrl()}${DEFAULT_ART_PATH}`;
  const params = { type: 'object', properties: { station: { type: 'string', maxLength: 64 } }, required: ['station'] } as const;
  app.get('/api/nowplaying', async (req) => {
    const ctx = viewsOf(req);
    return station.channels.map((c) => azNowPlaying(c, ctx, art(ctx)));
  });
  app.get('/api/nowplaying/:station', { schema: { params } }, async (req) => {
    const ctx = viewsOf(req);
    return azNowPlaying(channelOf(req), ctx, art(ctx));
  });
  app.get('/api/stations', async (req) => station.channels.map((c) => azStation(c, viewsOf(req))));
  app.get('/api/station/:station', { schema: { params } }, async (req) => azStation(channelOf(req), viewsOf(req)));
}
