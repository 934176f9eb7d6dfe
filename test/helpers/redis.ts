import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, waitForPort } from './ports.js';
import { stopChild } from './process.js';

export interface RedisHandle {
  port: number;
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A real redis-server on a free port, without persistence. */
export async function startRedis(): Promise<RedisHandle> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const handle: RedisHandle = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      await waitForPort(port);
    },
    stop: () => stopChild(child, 'SIGKILL'),
  };
  await handle.start();
  return handle;
}
