import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { STATION_ENV, STATION_ENV_PREFIX, STATION_NODE_ARGS } from '../../scripts/lib/station-command.js';

const root = new URL('../../', import.meta.url);
const read = (file: string): string => readFileSync(new URL(file, root), 'utf8');

// The benchmarks measure the station as started by STATION_NODE_ARGS: every way it ships must start it so.
test('npm start, the Dockerfile and compose launch the station as the benchmarks measure it, with its environment', () => {
  const start = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.start;
  assert.equal(start, [STATION_ENV_PREFIX, 'node', ...STATION_NODE_ARGS].join(' '), 'package.json scripts.start');
  const exec = JSON.stringify(['node', ...STATION_NODE_ARGS]).replaceAll(',', ', ');
  assert.ok(read('Dockerfile').includes(`CMD ${exec}`), `Dockerfile: CMD ${exec}`);
  assert.ok(read('docker-compose.yml').includes(`command: ${exec}`), `docker-compose.yml: command: ${exec}`);
  // Compose runs the image the Dockerfile builds, so its ENV reaches both.
  const env = /^ENV ((?:.*\\\n)*.*)$/m.exec(read('Dockerfile'))?.[1] ?? '';
  for (const [k, v] of Object.entries(STATION_ENV)) assert.match(env, new RegExp(`(^|\\s)${k}=${v}(\\s|$)`), `Dockerfile: ENV ${k}=${v}`);
});
