/** api-proxy's composition root: `npm run api-proxy`. */
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { ConfigError, reasonOf } from '../src/errors.js';
import { buildProxyApp } from './app.js';
import { KvCache } from '../src/media/kv-cache.js';
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
  const upstream = new QqUpstream({ apiBase: env.QQ_API_BASE, cBase: env.QQ_C_BASE, timeoutMs: env.UPSTREAM_TIMEOUT_MS, concurrency: env.UPSTREAM_CONCURRENCY });
  const qq = new QqService(upstream, cache, logger);
  const app = buildProxyApp({ qq, token: env.API_PROXY_TOKEN, logger, cacheStatus: () => cache.status, inFlight: () => upstream.inFlight });
  await app.listen({ port: env.PORT, host: env.HOST });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : env.PORT;
  logger.info({ upstream: env.QQ_API_BASE, redis: env.REDIS_URL ? 'configured' : 'none', port }, 'api-proxy ready');
  return {
    app,
    url: `http://${env.HOST === '0.0.0.0' ? '127.0.0.1' : env.HOST}:${port}`,
    upstream,
    cache,
    async close() {
      await app.close();
      await cache.close();
      await upstream.close();
    },
  };
}

async function main(): Promise<void> {
  let env;
  try {
    env = loadProxyEnv();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`api-proxy cannot start: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = pino({ level: env.LOG_LEVEL, base: { service: 'api-proxy' } });
  let running: RunningProxy;
  try {
    running = await startProxy(env, logger);
  } catch (err) {
    logger.fatal({ err: reasonOf(err) }, `api-proxy cannot start on ${env.HOST}:${env.PORT}: ${reasonOf(err)}`);
    process.exit(1);
  }
  const stop = (signal: string): void => {
    logger.info({ signal }, 'stopping');
    void running.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

const isEntry = process.argv[1] !== undefined && path.resolve(process.argv[1]).replace(/\.[jt]s$/, '') === path.resolve(import.meta.filename).replace(/\.[jt]s$/, '');
if (isEntry) void main();
