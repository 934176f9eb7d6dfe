import type { Duplex } from 'node:stream';

/**
 * An error answered on a bare socket, in the project's error shape, for the
 * requests that never reach fastify (parser refusals, WebSocket upgrades).
 * `end` lets the client read it (then the socket is destroyed after 5 s at
 * most, so a client that never reads cannot keep the descriptor); otherwise
 * it is written and the socket destroyed at once.
 */
export function replyRaw(socket: Duplex, status: number, text: string, error: { code: string; message: string }, how: 'end' | 'destroy'): void {
  const body = JSON.stringify({ error });
  const reply = `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
  if (how === 'destroy' || !socket.writable) {
    if (socket.writable) socket.write(reply);
    socket.destroy();
    return;
  }
  setTimeout(() => socket.destroy(), 5000).unref();
  socket.end(reply);
}
