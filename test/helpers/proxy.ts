import { loadProxyEnv } from '../../api-proxy/config.js';
import { startProxy as start, type RunningProxy } from '../../api-proxy/main.js';
import { captureLogs, type LogCapture } from './station.js';

export const TEST_TOKEN = 'test-token-0123456789abcdef';

/** api-proxy as `npm run api-proxy` composes it, on a free port. */
export async function startProxy(env: Record<string, string>): Promise<RunningProxy & { token: string; logs: LogCapture }> {
  const token = env.API_PROXY_TOKEN ?? TEST_TOKEN;
  const logs = captureLogs();
  const running = await start(loadProxyEnv({ PORT: '0', HOST: '127.0.0.1', API_PROXY_TOKEN: token, ...env }), logs.logger);
  return Object.assign(running, { token, logs });
}
