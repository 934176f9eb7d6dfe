import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import type { ViewContext } from './views.js';

/** A Host header that is a host name or address with an optional port, nothing else. */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The base URL a client reached this server at: its Host header (validated:
 * a host and port only), and https when a proxy in front says so. It only
 * shapes the links shown back to that same client.
 */
export function baseFromRequest(headers: IncomingHttpHeaders): string | null {
  const host = headers.host;
  if (typeof host !== 'string' || !HOST.test(host)) return null;
  const proto = headers['x-forwarded-proto'] === 'https' ? 'https' : 'http';
  return `${proto}://${host}`;
}

function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || (isIP(h) === 4 && h.startsWith('127.')) || h === '::1';
}

/**
 * Views for one client: listen links on PUBLIC_URL when set, else on the
 * host the client came in on (a phone that opened http://192.168.1.20:8080/
 * gets links there, not to localhost). An Icecast server configured on
 * loopback is shown on that same host, at its own port.
 */
export function viewsFor(ctx: ViewContext, headers: IncomingHttpHeaders, fixedPublicUrl: string | undefined): ViewContext {
  if (fixedPublicUrl) return ctx;
  const base = baseFromRequest(headers);
  if (!base) return ctx;
  const hostname = new URL(base).hostname;
  const icecastUrls = ctx.icecastUrls.map((u) => {
    const url = new URL(u);
    if (!isLoopback(url.hostname) || isLoopback(hostname)) return u;
    url.hostname = hostname;
    return url.origin;
  });
  return { ...ctx, publicUrl: () => base, icecastUrls };
}
