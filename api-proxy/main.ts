/** api-proxy's composition root: `npm run api-proxy`. */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { isEntry, runService } from '../src/kernel/service.js';
import { buildProxyApp } from './app.js';
import { KvCache } from '../src/kernel/kv-cache.js';
import { loadProxyEnv, type ProxyEnv } from './config.js';
import { QqService } from './qq/service.js';
import { QqUpstream } from './qq/upstream.js';

export interface RunningProxy {
  app: FastifyInstance;
  url: string;
  upstream: QqUpstream;
  cache: KvCache;
  close(): Promise<void>;
}

/** Compose and start the proxy the environment describes. */
export async function startProxy(env: Readonly<ProxyEnv>, logger: Logger): Promise<RunningProxy> {
  const cache = new KvCache(env.REDIS_URL, logger);
  const upstream = new QqUpstream({
    apiBase: env.QQ_API_BASE,
    cBase: env.QQ_C_BASE,
    imageBase: env.QQ_IMAGE_BASE,
    musicuPath: env.QQ_MUSICU_PATH,
    legacyPlaylistPath: env.QQ_LEGACY_PLAYLIST_PATH,
    timeoutMs: env.UPSTREAM_TIMEOUT_MS,
    concurrency: env.UPSTREAM_CONCURRENCY,
    maxBodyBytes: env.UPSTREAM_MAX_BYTES,
  });
  const qq = new QqService(upstream, cache, logger, env.QQ_VKEY_API);
  const app = buildProxyApp({ qq, token: env.API_PROXY_TOKEN, logger, cacheStatus: () => cache.status, inFlight: () => upstream.inFlight });
  await app.listen({ port: env.PORT, host: env.HOST });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : env.PORT;
  const shutdown = async (): Promise<void> => {
    await app.close();
    await cache.close();
    await upstream.close();
  };
  let closing: Promise<void> | undefined;
  logger.info({ upstream: env.QQ_API_BASE, redis: env.REDIS_URL ? 'configured' : 'none', port }, 'api-proxy ready');
  return {
    app,
    url: `http://${env.HOST === '0.0.0.0' ? '127.0.0.1' : env.HOST}:${port}`,
    upstream,
    cache,
    close: () => (closing ??= shutdown()),
  };
}

if (isEntry(import.meta.url)) {
  void runService({
    service: 'api-proxy',
    loadEnv: loadProxyEnv,
    start: startProxy,
  });
}
