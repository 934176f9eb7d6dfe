/**
 * Many idle or half-sent connections at a station, as a flood is made of:
 * each opened from an address of the caller's choosing, held until the
 * station closes it.
 */
import net from 'node:net';

export interface Attacker {
  socket: net.Socket;
  /** The server closed it (as opposed to us). */
  closedAt: number | null;
}

/** Open `n` connections from `from(i)`, each sending `hello` (or nothing), in bursts so the listen backlog keeps up. */
export async function openMany(port: number, n: number, from: (i: number) => string, hello = '', timeoutMs = 3000): Promise<Attacker[]> {
  const out: Attacker[] = [];
  for (let i = 0; i < n; i += 200) {
    const batch = await Promise.all(
      Array.from(
        { length: Math.min(200, n - i) },
        (_, j) =>
          new Promise<Attacker>((resolve) => {
            const a: Attacker = { socket: net.connect({ port, host: '127.0.0.1', localAddress: from(i + j) }), closedAt: null };
            const done = (): void => resolve(a);
            a.socket.setTimeout(timeoutMs, () => a.socket.destroy());
            a.socket.once('connect', () => {
              if (hello) a.socket.write(hello);
              done();
            });
            a.socket.on('error', () => undefined);
            a.socket.once('close', () => {
              a.closedAt = Date.now();
              done();
            });
          }),
      ),
    );
    out.push(...batch);
  }
  return out;
}

export function stillOpen(attackers: Attacker[]): number {
  return attackers.filter((a) => a.closedAt === null).length;
}
