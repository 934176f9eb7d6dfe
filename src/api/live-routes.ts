import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Station } from '../playout/station.js';
import type { LiveIngest } from '../live/ingest.js';
import { metadataReplyXml, parseMetadataUpdate } from '../live/metadata.js';
import { basicCredentials } from '../live/source-head.js';

/**
 * Title updates from DJs' clients, where they send them to Icecast:
 * `/admin/metadata?mode=updinfo`, with the credentials the DJ broadcasts
 * with. Answered in Icecast's XML, which clients parse.
 */
export function liveRoutes(app: FastifyInstance, station: Station, live: LiveIngest): void {
  const xml = (reply: FastifyReply, status: number, message: string, ok = false) =>
    reply.code(status).type('text/xml; charset=utf-8').send(metadataReplyXml(message, ok));
  app.get('/admin/metadata', async (req, reply) => {
    const update = parseMetadataUpdate(req.url);
    if (!update.ok) return xml(reply, update.status, update.reason);
    const channel = station.byMount(update.mount);
    if (!channel) return xml(reply, 400, 'Source does not exist');
    const who = await live.retitle(channel, basicCredentials(req.headers.authorization), update.title, req.socket.remoteAddress ?? '');
    if (who === 'denied') return xml(reply.header('www-authenticate', 'Basic realm="Icecast2 Server"'), 401, 'Authentication Required');
    if (who === 'no-show') return xml(reply, 400, 'Source does not exist');
    if (who === 'busy') return xml(reply, 503, 'too many sign-ins at once; try again');
    return xml(reply, 200, 'Metadata update successful', true);
  });
}
