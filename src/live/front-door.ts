/**
 * One port for listeners, the API and DJs: a connection's first bytes say
 * whether it is an Icecast source (`SOURCE`/`PUT`, whose unframed audio
 * body node's HTTP parser cannot carry) or anything else, which goes on to
 * the HTTP server untouched.
 */
import type { Server } from 'node:http';
import net, { type Socket } from 'node:net';
import { startsSourceRequest } from './source-head.js';

export type SourceHandler = (socket: Socket, first: Buffer) => void;

/**
 * Read a connection's first bytes, then hand it to `onSource` (with them) or
 * to `onOther` (with them put back). A client that sends nothing within
 * `timeoutMs` is dropped, as the HTTP server would drop it.
 */
export function sniff(socket: Socket, timeoutMs: number, onSource: SourceHandler, onOther: (socket: Socket) => void): void {
  let got: Buffer = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  const done = (): void => {
    clearTimeout(timer);
    socket.off('readable', readable);
    socket.off('close', closed);
  };
  const closed = (): void => done();
  const readable = (): void => {
    let chunk: Buffer | null;
    while ((chunk = socket.read() as Buffer | null) !== null) got = got.length === 0 ? chunk : Buffer.concat([got, chunk]);
    const source = startsSourceRequest(got);
    if (source === null) return;
    done();
    if (source) {
      onSource(socket, got);
    } else {
      if (got.length > 0) socket.unshift(got);
      onOther(socket);
    }
  };
  socket.on('readable', readable);
  socket.on('close', closed);
  socket.on('error', () => socket.destroy());
}

/**
 * Put the sniffing in front of `server`'s own connection handling (node's
 * HTTP parser); other 'connection' listeners (the connection guard's
 * counting) still see every connection at once.
 */
export function routeSources(server: Server, timeoutMs: number, onSource: SourceHandler): void {
  const listeners = server.listeners('connection') as ((socket: Socket) => void)[];
  const parser = listeners.find((l) => l.name === 'connectionListener');
  if (!parser) throw new Error('node HTTP server without its connectionListener: cannot route live sources');
  server.off('connection', parser);
  server.prependListener('connection', (socket: Socket) => sniff(socket, timeoutMs, onSource, (s) => parser.call(server, s)));
}

/** Takes a connection in or closes it (the station's one connection guard). */
export interface Admission {
  admit(socket: Socket): boolean;
}

/**
 * LIVE_PORT: a server for sources only; anything else is told so and closed.
 * Its connections count against the same guard as the HTTP port's.
 */
export function sourceOnlyServer(timeoutMs: number, guard: Admission, onSource: SourceHandler): net.Server {
  return net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    if (!guard.admit(socket)) return;
    sniff(socket, timeoutMs, onSource, (s) => {
      const body = 'this port takes live sources (SOURCE or PUT) only; listen on the station HTTP port\r\n';
      s.end(`HTTP/1.0 405 Method Not Allowed\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    });
  });
}
