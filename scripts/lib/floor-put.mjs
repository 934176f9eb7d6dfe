// What both benchmark floors do to get on air: a PUT source connection to
// Icecast, answered before any audio is sent. Plain JS, no loader.
import net from 'node:net';

/** Connects as a source on `mount` and resolves with the socket once Icecast answers; any socket error ends the process. */
export async function putSource(host, port, mount, password, name) {
  const socket = net.connect(Number(port), host);
  socket.on('error', () => process.exit(1));
  socket.write(
    `PUT ${mount} HTTP/1.1\r\nHost: ${host}:${port}\r\nAuthorization: Basic ${Buffer.from(`source:${password}`).toString('base64')}\r\n` +
      `Content-Type: audio/mpeg\r\nIce-Name: ${name}\r\nExpect: 100-continue\r\n\r\n`,
  );
  await new Promise((resolve) => socket.once('data', resolve));
  return socket;
}
