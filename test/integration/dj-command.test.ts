/** `npm run dj`, the DJ accounts command, run as a user runs it: a process per call, the password on stdin. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { readDjFile, verifyPassword } from '../../src/live/accounts.js';
import { tempDir } from '../helpers/station.js';

const run = promisify(execFile);

test('npm run dj: add reads the password from stdin, list, passwd, remove; the file is private', async () => {
  const dir = tempDir('djcli');
  const env = { ...process.env, PLAYLISTS_DIR: path.join(dir, 'playlists') };
  const dj = (args: string[], input?: string) => {
    const p = run(process.execPath, ['--import', 'tsx', 'src/dj.ts', ...args], { env });
    if (input !== undefined) p.child.stdin!.end(input);
    return p;
  };
  await dj(['add', 'alice', '--channel', 'radio', '--window', 'mon-fri 20:00-22:00', '--timezone', 'Europe/Berlin'], 'a-long-password\n');
  const file = path.join(dir, 'djs.json');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.ok(!readFileSync(file, 'utf8').includes('a-long-password'));
  const stored = (await readDjFile(file)).djs[0]!;
  assert.equal(await verifyPassword('a-long-password', stored.hash), true);
  assert.match((await dj(['list'])).stdout, /alice\tchannels: radio\tmon,tue,wed,thu,fri 20:00-22:00 \(Europe\/Berlin\)/);
  await assert.rejects(dj(['add', 'bob', '--channel', 'radio'], 'short\n'), /at least 8 characters/);
  await assert.rejects(dj(['add', 'alice', '--channel', 'radio'], 'another-password\n'), /exists/);
  await dj(['passwd', 'alice'], 'new-password-1\n');
  assert.equal(await verifyPassword('new-password-1', (await readDjFile(file)).djs[0]!.hash), true);
  await dj(['remove', 'alice']);
  assert.deepEqual((await readDjFile(file)).djs, []);
});
