import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface HealthCheck {
  status: number;
  ms: number;
  err?: string;
}

/**
 * A health checker in a process of its own, as Docker's HEALTHCHECK or a load balancer is: a check
 * made from the test's process, busy opening thousands of connections, sends its request when that
 * loop gets to it, and the station rightly sheds a connection that has sent nothing while a flood
 * goes by. GET /health every `everyMs` from `localAddress`, one check at a time.
 */
export function healthChecker(port: number, localAddress: string, everyMs: number): { checks: HealthCheck[]; stop(): Promise<void> } {
  const script = `
    const http = require('node:http');
    let stopped = false;
    process.stdin.on('end', () => { stopped = true; });
    process.stdin.resume();
    function check() {
      if (stopped) return process.exit(0);
      const t0 = Date.now();
      const done = (r) => { process.stdout.write(JSON.stringify({ ...r, ms: Date.now() - t0 }) + '\\n'); setTimeout(check, ${everyMs}); };
      const req = http.get({ host: '127.0.0.1', port: ${port}, path: '/health', localAddress: '${localAddress}', timeout: 5000, agent: false }, (res) => {
        res.resume();
        res.on('end', () => done({ status: res.statusCode }));
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (e) => done({ status: 0, err: e.message }));
    }
    check();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const checks: HealthCheck[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => checks.push(JSON.parse(l) as HealthCheck));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    checks,
    stop: async () => {
      child.stdin.end();
      await exited;
    },
  };
}
