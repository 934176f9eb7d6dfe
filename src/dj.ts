/**
 * `npm run dj -- <command>`: DJ accounts for live shows, in DJS_FILE.
 *
 *   add <user> --channel <id> [--channel <id>...] [--window "mon-fri 20:00-22:00"...] [--timezone Europe/Berlin]
 *   passwd <user>        list        remove <user>
 *
 * Passwords are read from standard input (one line; not echoed on a
 * terminal), never from the command line, where `ps` and shell history
 * would show them. Only an scrypt hash is stored.
 */
import { parseArgs } from 'node:util';
import { djsFileOf } from './config/env.js';
import { CHANNEL_ID } from './config/playlist-file.js';
import { formatWindow, isTimeZone, parseWindow } from './config/week.js';
import { DJ_NAME, hashPassword, readDjFile, writeDjFile } from './live/accounts.js';
import { isEntry } from './kernel/service.js';

const USAGE = 'usage: npm run dj -- add <user> --channel <id> [--window "mon-fri 20:00-22:00"] [--timezone <IANA zone>] | passwd <user> | list | remove <user>';

function fail(message: string): never {
  process.stderr.write(`dj: ${message}\n`);
  process.exit(2);
}

/** One line from standard input; on a terminal, asked for and not echoed. */
async function readPassword(user: string): Promise<string> {
  const stdin = process.stdin;
  if (stdin.isTTY) process.stderr.write(`password for ${user}: `);
  if (stdin.isTTY) stdin.setRawMode(true);
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) {
    chunks.push(chunk as Buffer);
    if (Buffer.concat(chunks).includes(stdin.isTTY ? 13 : 10)) break;
  }
  if (stdin.isTTY) {
    stdin.setRawMode(false);
    process.stderr.write('\n');
  }
  stdin.pause();
  const password =
    Buffer.concat(chunks)
      .toString('utf8')
      .split(/\r?\n|\r/)[0] ?? '';
  if (password.length < 8) fail('the password must have at least 8 characters');
  if (password.length > 1024) fail('the password is longer than 1024 characters');
  return password;
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { channel: { type: 'string', multiple: true }, window: { type: 'string', multiple: true }, timezone: { type: 'string' } },
  });
  const [command, user] = positionals;
  const file = djsFileOf({ DJS_FILE: process.env.DJS_FILE, PLAYLISTS_DIR: process.env.PLAYLISTS_DIR ?? './playlists' });
  const data = await readDjFile(file).catch((err: Error) => fail(err.message));
  const needUser = (): string => {
    if (!user || !DJ_NAME.test(user)) fail(`a user name (letters, digits, . _ -) is required\n${USAGE}`);
    return user;
  };
  switch (command) {
    case 'list':
      if (data.djs.length === 0) process.stdout.write(`no DJs in ${file}\n`);
      for (const d of data.djs)
        process.stdout.write(
          `${d.user}\tchannels: ${d.channels.join(', ')}\t${d.windows?.length ? `${d.windows.map(formatWindow).join('; ')} (${d.timezone})` : 'any time'}\n`,
        );
      return;
    case 'add': {
      const name = needUser();
      if (data.djs.some((d) => d.user === name)) fail(`${name} exists in ${file}; use passwd to change the password`);
      const channels = values.channel ?? [];
      if (channels.length === 0) fail(`--channel <id> is required\n${USAGE}`);
      for (const c of channels) if (!CHANNEL_ID.test(c)) fail(`"${c}" is not a channel id (a playlist file's name without .json)`);
      let windows;
      try {
        windows = values.window?.map(parseWindow);
      } catch (err) {
        fail((err as Error).message);
      }
      const timezone = values.timezone ?? 'UTC';
      if (!isTimeZone(timezone)) fail(`"${timezone}" is not a known IANA time zone`);
      const hash = await hashPassword(await readPassword(name));
      data.djs.push({ user: name, channels, hash, timezone, ...(windows ? { windows } : {}) });
      await writeDjFile(file, data);
      process.stdout.write(`added ${name} (channels: ${channels.join(', ')}) to ${file}\n`);
      return;
    }
    case 'passwd': {
      const dj = data.djs.find((d) => d.user === needUser());
      if (!dj) fail(`no DJ ${user} in ${file}`);
      dj.hash = await hashPassword(await readPassword(dj.user));
      await writeDjFile(file, data);
      process.stdout.write(`password changed for ${dj.user}\n`);
      return;
    }
    case 'remove': {
      const name = needUser();
      const left = data.djs.filter((d) => d.user !== name);
      if (left.length === data.djs.length) fail(`no DJ ${name} in ${file}`);
      await writeDjFile(file, { djs: left });
      process.stdout.write(`removed ${name}\n`);
      return;
    }
    default:
      fail(USAGE);
  }
}

if (isEntry(import.meta.url)) void main().catch((err: Error) => fail(err.message));
