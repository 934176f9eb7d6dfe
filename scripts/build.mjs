/**
 * `npm run build`: type-check, then bundle the commands (streamer,
 * import, dj, the health probe, api-proxy) and the MP3 encoders' worker
 * thread with their dependencies into dist/.
 *
 * Why a bundle and not tsc's one-file-per-module output: node spent ~85 ms
 * resolving and loading ~250 separate ES modules (zod ~160 of them, ~45 ms)
 * before the streamer could open its first Icecast connection; bundled (zod
 * imported as a namespace, so its 64 unused locales are left out), the same
 * code loads in ~35 ms, so mounts go live that much sooner after start.
 * The HTTP side stays in a chunk of its own, loaded after the Icecast
 * handshakes; undici, ioredis, ws and prom-client stay in node_modules.
 *
 * The output paths are the ones tsc produced (dist/src/main.js,
 * dist/src/import.js, dist/api-proxy/main.js), so every command that starts
 * them is unchanged. Not minified: stack traces keep their names.
 *
 * `--start` (what `npm start` runs first): no type-check (the test command
 * does that), and nothing at all when dist/ is newer than every source file,
 * so a warm start goes straight to node and a first start bundles in well
 * under a second.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
const forStart = process.argv.includes('--start');
const stamp = path.join(root, 'dist', '.built');

/** Newest modification time of the files the bundle is made from. */
function newestSource() {
  let newest = 0;
  const walk = (p) => {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) for (const name of readdirSync(p)) walk(path.join(p, name));
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of ['src', 'api-proxy', 'package-lock.json', 'tsconfig.json', 'scripts/build.mjs']) walk(path.join(root, p));
  return newest;
}

if (forStart) {
  const built = statSync(stamp, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  if (built >= newestSource()) process.exit(0);
} else {
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--noEmit'], {
    cwd: root,
    stdio: 'inherit',
  });
}
const started = Date.now();
rmSync(path.join(root, 'dist'), { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: [
    'src/main.ts',
    'src/import.ts',
    'src/dj.ts',
    'src/health-probe.ts',
    'api-proxy/main.ts',
    'src/encode/lame-worker.ts',
    'src/ffmpeg/launcher-process.ts',
  ],
  outdir: 'dist',
  outbase: '.',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: true,
  // Loaded from node_modules at run time, as before: the ffmpeg package finds
  // its binary next to its own files, and packages only ever loaded with
  // import() (when a feature is first used) gain nothing from bundling while
  // esbuild's split chunks would hand import() of a CommonJS package its
  // default export alone (`{ Redis }` undefined).
  external: ['@ffmpeg-installer/ffmpeg', 'undici', 'ioredis', 'prom-client', 'ws'],
  // CommonJS dependencies (pino, fluent-ffmpeg, ioredis...) call require()
  // for node's own modules, and fluent-ffmpeg reads __dirname.
  banner: {
    js: [
      "import { createRequire as __scastCreateRequire } from 'node:module';",
      "import { fileURLToPath as __scastFileURLToPath } from 'node:url';",
      'const require = __scastCreateRequire(import.meta.url);',
      'const __filename = __scastFileURLToPath(import.meta.url);',
      "const __dirname = __scastFileURLToPath(new URL('.', import.meta.url));",
    ].join(' '),
  },
  logLevel: 'warning',
});
writeFileSync(stamp, `${new Date().toISOString()}\n`);
if (forStart) process.stderr.write(`built in ${Date.now() - started} ms\n`);
