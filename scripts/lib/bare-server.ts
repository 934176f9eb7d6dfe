/** The baseline for the proxy benchmark: a bare fastify route answering a constant from memory. */
import Fastify from 'fastify';

const body = JSON.stringify({
  mid: '0039MnYb0qxYhV',
  title: '晴天',
  artists: [{ mid: 'x', name: '周杰伦' }],
  album: null,
  coverUrl: null,
  durationMs: 1,
  mediaMid: null,
});
const app = Fastify();
app.get('/v1/qq/songs/:mid', async (_req, reply) => reply.type('application/json').send(body));
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
process.stdout.write(`${(app.server.address() as { port: number }).port}\n`);
