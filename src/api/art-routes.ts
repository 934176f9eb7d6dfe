import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { ArtStore } from '../acquire/art/art-store.js';
import type { ArtSize } from '../acquire/art/image.js';
import { DEFAULT_ART_PATH } from '../outputs/art-links.js';
import { NotFoundError } from '../kernel/errors.js';
import { DEFAULT_ART_SVG } from './page.js';

/** `<id>.jpg` (600 px), `<id>-300.jpg`, `<id>-96.jpg`. */
const ART_FILE = /^([0-9a-f]{24})(?:-(96|300))?\.jpg$/;

/**
 * Pictures at `/art/...`: named by their content, so each URL is cached
 * for a year (`immutable`) and revalidated by ETag; readable from any
 * origin (widgets draw them on canvases).
 */
export function artRoutes(app: FastifyInstance, store: ArtStore | null): void {
  app.get(DEFAULT_ART_PATH, async (_req, reply) =>
    reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').header('access-control-allow-origin', '*').send(DEFAULT_ART_SVG),
  );
  app.get(
    '/art/:file',
    { schema: { params: { type: 'object', properties: { file: { type: 'string', maxLength: 40 } }, required: ['file'] } } },
    async (req, reply) => {
      const m = ART_FILE.exec((req.params as { file: string }).file);
      const size = Number(m?.[2] ?? 600) as ArtSize;
      const file = m && store ? await store.file(m[1]!, size) : null;
      if (!m || !file) throw new NotFoundError('picture');
      const etag = `"${m[1]}-${size}"`;
      void reply
        .header('etag', etag)
        .header('cache-control', 'public, max-age=31536000, immutable')
        .header('access-control-allow-origin', '*')
        .header('x-content-type-options', 'nosniff');
      if (req.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.type('image/jpeg').send(await readFile(file));
    },
  );
}
