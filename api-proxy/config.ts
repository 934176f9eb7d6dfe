import * as z from 'zod';
import { intInRange as int, logFormat, logLevel, parseEnv } from '../src/kernel/env-schema.js';
const base = z
  .string()
  .refine((u) => /^https?:\/\/[^/?#]+\/?$/.test(u), 'expected an http(s) origin like https://u.y.qq.com (no path)')
  .transform((u) => u.replace(/\/$/, ''));

const upstreamPath = z.string().regex(/^\/[A-Za-z0-9._~\-/]{0,200}$/, 'expected a path like /cgi-bin/musicu.fcg (letters, digits, . _ ~ - /)');

/** api-proxy's environment; docs/configuration.md is generated from these comments. */
export const proxyEnvSchema = z.object({
  /** Port to listen on. */
  PORT: int(0, 65535).default(8090),
  /** Address to bind. */
  HOST: z.string().min(1).default('0.0.0.0'),
  /** every request but `/health` carries `Authorization: Bearer <token>` (16+ characters) */
  API_PROXY_TOKEN: z.string({ error: 'required: the token clients send as "Authorization: Bearer <token>"' }).min(16, 'at least 16 characters'),
  /** answer cache; when Redis is down the proxy answers from upstream and reconnects by itself */
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'expected redis://host:6379')
    .optional(),
  /** QQ Music API origin (the only host the proxy ever calls, with `QQ_C_BASE`) */
  QQ_API_BASE: base.default('https://u.y.qq.com'),
  /** legacy API origin (old playlist endpoint) */
  QQ_C_BASE: base.default('https://c.y.qq.com'),
  /** Origin of QQ Music's pictures (album covers, singer photos). */
  QQ_IMAGE_BASE: base.default('https://y.gtimg.cn'),
  /** Path of the musicu call on QQ_API_BASE (upstream paths move too). Default /cgi-bin/musicu.fcg. */
  QQ_MUSICU_PATH: upstreamPath.default('/cgi-bin/musicu.fcg'),
  /** Path of the legacy playlist call on QQ_C_BASE. Default /qzone/fcg-bin/fcg_ucc_getcdinfo_byids_cp.fcg. */
  QQ_LEGACY_PLAYLIST_PATH: upstreamPath.default('/qzone/fcg-bin/fcg_ucc_getcdinfo_byids_cp.fcg'),
  /** play-URL call: `GetVkey` (`music.vkey.GetVkey` / `UrlGetVkey`, reading `wifiurl`, what current open clients use) or `CgiGetVkey` (`vkey.GetVkeyServer`, reading `purl`) */
  QQ_VKEY_API: z.enum(['GetVkey', 'CgiGetVkey']).default('GetVkey'),
  /** per upstream call */
  UPSTREAM_TIMEOUT_MS: int(100, 120_000).default(8000),
  /** Largest upstream answer read, in bytes (a 1000-song playlist is ~1 MB). Default 8 MiB. */
  UPSTREAM_MAX_BYTES: int(1024, 1024 * 1024 * 1024).default(8 * 1024 * 1024),
  /** upstream calls in flight at most */
  UPSTREAM_CONCURRENCY: int(1, 256).default(8),
  /** pino level: fatal, error, warn, info, debug, trace, silent. */
  LOG_LEVEL: logLevel,
  /** `auto`: readable lines on a terminal, JSON lines otherwise; or always `json` / `pretty`. Default auto. */
  LOG_FORMAT: logFormat,
});
export type ProxyEnv = z.output<typeof proxyEnvSchema>;

export function loadProxyEnv(source: NodeJS.ProcessEnv = process.env): Readonly<ProxyEnv> {
  return Object.freeze(parseEnv(proxyEnvSchema, source));
}
