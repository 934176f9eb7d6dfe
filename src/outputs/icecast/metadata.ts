import { MetadataUpdateError } from '../../kernel/errors.js';
import { readCapped } from '../../kernel/http-body.js';

export interface MetadataTarget {
  host: string;
  port: number;
  server: string;
  mount: string;
  user: string;
  password: string;
}

/**
 * The title Icecast shows for the mount in its public status
 * (status-json.xsl), or null when it cannot be read. Icecast 2.4 lists one
 * source as an object and several as an array.
 */
export async function shownTitle(t: MetadataTarget, timeoutMs = 3000): Promise<string | null> {
  const mine = await mountStatus(t, t.mount, timeoutMs);
  return typeof mine?.title === 'string' ? mine.title : null;
}

/** One mount's entry in Icecast's public status, or null (not listed, or the status cannot be read). */
export async function mountStatus(t: Omit<MetadataTarget, 'mount'>, mount: string, timeoutMs = 3000): Promise<Record<string, unknown> | null> {
  try {
    const { request } = await import('undici');
    const host = t.host.includes(':') ? `[${t.host}]` : t.host;
    const res = await request(`http://${host}:${t.port}/status-json.xsl`, {
      method: 'GET',
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    // Icecast 2.4 writes an entity's # as `\#`, which is not JSON.
    const text = (await readCapped(res.body, 1024 * 1024, `Icecast ${t.server}`, res.headers['content-length'])).replace(/\\#/g, '#');
    const source = (JSON.parse(text) as { icestats?: { source?: unknown } }).icestats?.source;
    const list = (Array.isArray(source) ? source : source ? [source] : []) as Record<string, unknown>[];
    return list.find((x) => typeof x.listenurl === 'string' && x.listenurl.endsWith(mount)) ?? null;
  } catch {
    return null;
  }
}

/**
 * Move every listener of mount `from` to mount `to` (Icecast's admin
 * moveclients; admin credentials). They stay connected and carry on with
 * the other mount's audio.
 */
export async function moveClients(t: Omit<MetadataTarget, 'mount'>, from: string, to: string, timeoutMs = 5000): Promise<void> {
  const auth = Buffer.from(`${t.user}:${t.password}`, 'utf8').toString('base64');
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  const q = new URLSearchParams({ mount: from, destination: to });
  const { request } = await import('undici');
  const res = await request(`http://${host}:${t.port}/admin/moveclients?${q}`, {
    method: 'GET',
    headers: { authorization: `Basic ${auth}`, 'user-agent': 'sCast' },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await readCapped(res.body, 64 * 1024, `Icecast ${t.server}`, res.headers['content-length']);
  if (res.statusCode !== 200 || !/<return>1<\/return>/.test(text)) {
    const said = /<message>([^<]*)<\/message>/i.exec(text)?.[1] ?? `HTTP ${res.statusCode}`;
    throw new MetadataUpdateError(t.server, from, `moving listeners to ${to} failed: ${said}`);
  }
}

/**
 * Whether `shown` is `sent` garbled the way an Icecast mount without a
 * UTF-8 charset garbles it: as `&#NNNN;` entities, or its UTF-8 bytes read
 * as Latin-1. Pure.
 */
export function isGarbled(sent: string, shown: string): boolean {
  if (shown === sent) return false;
  const entities = shown.replace(/&#(\d+);/g, (_m, n: string) => String.fromCodePoint(Number(n)));
  const latin1 = Buffer.from(sent, 'utf8').toString('latin1');
  return entities === sent || shown === latin1 || shown === Buffer.from(latin1, 'utf8').toString('utf8');
}
