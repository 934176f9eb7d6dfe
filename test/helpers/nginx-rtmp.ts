import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from './ports.js';
import { stopChild } from './process.js';

/** Debian's nginx RTMP module (libnginx-mod-rtmp). */
const MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';

export interface RtmpServer {
  port: number;
  /** rtmp://127.0.0.1:PORT/live */
  url: string;
  start(): Promise<void>;
  /** SIGKILL: a crashed server. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real RTMP server: Debian's nginx with its RTMP module, one `live`
 * application taking any stream key and playing it back to whoever asks.
 */
export async function startNginxRtmp(): Promise<RtmpServer> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'scast-rtmp-'));
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    [
      `load_module ${MODULE};`,
      'daemon off;',
      'master_process off;',
      `pid ${path.join(dir, 'nginx.pid')};`,
      `error_log ${path.join(dir, 'error.log')} info;`,
      'events { worker_connections 64; }',
      `rtmp { server { listen 127.0.0.1:${port}; chunk_size 4096; application live { live on; record off; } } }`,
    ].join('\n'),
  );
  let child: ChildProcess | null = null;
  const server: RtmpServer = {
    port,
    url: `rtmp://127.0.0.1:${port}/live`,
    async start() {
      child = spawn('nginx', ['-c', conf, '-p', dir, '-e', path.join(dir, 'error.log')], { stdio: 'ignore' });
      await waitForPort(port);
    },
    async kill() {
      const c = child;
      child = null;
      if (c) await stopChild(c, 'SIGKILL');
    },
    async stop() {
      const c = child;
      child = null;
      if (c) await stopChild(c, 'SIGTERM');
    },
  };
  await server.start();
  return server;
}
