import type { Readable } from 'node:stream';
import { ResponseTooLargeError } from './errors.js';

/**
 * An HTTP response body as text, refusing to hold more than `maxBytes`: a
 * declared length over it is refused before reading, an undeclared one is
 * cut off as soon as it passes. Memory per answer is bounded whatever the
 * other side sends, however many answers are in flight.
 */
export async function readCapped(body: Readable, maxBytes: number, what: string, declared?: string | string[]): Promise<string> {
  return (await readCappedBytes(body, maxBytes, what, declared)).toString('utf8');
}

/** The body's bytes, bounded as readCapped's text is. */
export async function readCappedBytes(body: Readable, maxBytes: number, what: string, declared?: string | string[]): Promise<Buffer> {
  const length = Number(Array.isArray(declared) ? declared[0] : declared);
  if (Number.isFinite(length) && length > maxBytes) {
    discardBody(body);
    throw new ResponseTooLargeError(what, length, maxBytes);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      body.destroy();
      throw new ResponseTooLargeError(what, total, maxBytes);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * Let go of a body not to be read (a redirect's, an error page's, one
 * refused by its length). Destroying an undici body that has not ended makes
 * it emit an AbortError, and a stream 'error' nobody listens to ends the
 * process: a hostile server that redirects with a body did exactly that.
 * Not resume(): an endless error page would be read for as long as it lasts.
 */
export function discardBody(body: Readable): void {
  body.on('error', () => {});
  body.destroy();
}
