/**
 * `npm run bench:start`: how long `npm start` takes until listeners hear
 * the first song, as an operator starts it: the first start after `npm ci`
 * (no dist/: it bundles first) and warm starts (nothing to build). Prints the
 * figures; asserts nothing.
 *
 * Measured from spawning `npm start` to (a) the mount answering a listener
 * and (b) the first song's title arriving at an ICY listener.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listen } from '../test/helpers/listener.js';
import { freePort } from '../test/helpers/ports.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 3;

async function once(label: string): Promise<{ label: string; mountMs: number; songMs: number }> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn('npm', ['start', '--silent'], {
    cwd: ROOT,
    env: {
      ...process.env,
      HTTP_PORT: String(port),
      HTTP_HOST: '127.0.0.1',
      CACHE_DIR: mkdtempSync(path.join(os.tmpdir(), 'scast-bench-start-')),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'ignore'],
    detached: true,
  });
  try {
    let mountMs = 0;
    for (;;) {
      try {
        const l = await listen(`http://127.0.0.1:${port}/radio.mp3`);
        mountMs = performance.now() - t0;
        await l.waitForTitle((t) => t.length > 0, 20_000);
        const songMs = performance.now() - t0;
        l.close();
        return { label, mountMs, songMs };
      } catch {
        if (performance.now() - t0 > 60_000) throw new Error(`${label}: no audio within 60 s`);
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

const results = [];
for (let i = 0; i < runs; i++) {
  rmSync(path.join(ROOT, 'dist'), { recursive: true, force: true });
  results.push(await once(`first start after npm ci (run ${i + 1})`));
  results.push(await once(`warm start (run ${i + 1})`));
}
for (const r of results)
  console.log(`${r.label.padEnd(34)} mount answers ${(r.mountMs / 1000).toFixed(2)} s, first song heard ${(r.songMs / 1000).toFixed(2)} s`);
