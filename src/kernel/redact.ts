/**
 * URLs as they may be shown: in logs, the API, the feed, the page, /health
 * and /metrics. Play URLs carry signed tokens in their query (QQ's `vkey`,
 * S3's `X-Amz-Signature`) and people write `user:pass@` into track URLs;
 * none of it is ever displayed. Pure.
 */

/** `https://u:p@host/a.mp3?vkey=abc` -> `https://***@host/a.mp3?vkey=***`. Not a URL: returned with anything like credentials masked. */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return raw.replace(/\/\/[^/@\s]*@/, '//***@').replace(/\?.*$/, '?***');
  }
  const auth = url.username || url.password ? '***@' : '';
  const query = [...url.searchParams.keys()].map((k) => `${encodeURIComponent(k)}=***`).join('&');
  const port = url.port ? `:${url.port}` : '';
  return `${url.protocol}//${auth}${url.hostname}${port}${url.pathname}${query ? `?${query}` : ''}`;
}
