import net from 'node:net';

/** Ports this process has handed out: the kernel may pick a released port again at once. */
const handedOut = new Set<number>();

/**
 * A TCP port nobody listens on right now (the kernel picks it), and never one
 * this process handed out before: a test takes several before starting the
 * services that bind them, and two services given the same port fail in ways
 * that look like anything but that (one answers for the other).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no TCP port left that this process has not handed out already (${handedOut.size} of them)`);
}

/** Resolve once something accepts TCP connections on `port` (checked every 10 ms, up to `timeoutMs`). */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ port, host: '127.0.0.1' });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return Date.now();
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Poll `check` every `everyMs` until it returns a value other than undefined. */
export async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Resolves once `url` answers 200 (a mount with a source behind it, e.g. on a relay): Icecast has no event for it. */
export async function mountServed(url: string, timeoutMs: number): Promise<void> {
  await until(
    `${url} served`,
    async () =>
      (await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
        (r) => {
          void r.body?.cancel();
          return r.status === 200;
        },
        () => false,
      ))
        ? true
        : undefined,
    timeoutMs,
    500,
  );
}
