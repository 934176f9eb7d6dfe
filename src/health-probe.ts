/**
 * `node dist/src/health-probe.js`: a container's health check. Exits 0 when
 * this container's own service answers GET /health with 200 (the streamer:
 * every channel on air, no dead air; api-proxy: up), 1 otherwise or after
 * 2.5 s. A file rather than `node -e '...'` because engines differ in how
 * they pass a check's arguments (podman's Docker API splits them on spaces).
 *
 * The port: HTTP_PORT (the streamer), else PORT (api-proxy), else 8080.
 */
const port = process.env.HTTP_PORT ?? process.env.PORT ?? '8080';
try {
  const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2500) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
