/**
 * DJ accounts: who may broadcast into which channels, and when. Kept in one
 * JSON file (DJS_FILE, mode 0600) holding only slow scrypt hashes of the
 * passwords; `npm run dj` edits it, the station reads it at each connection,
 * so an edit applies without a restart.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import * as z from 'zod';
import { PlaylistError } from '../kernel/errors.js';
import { timeZoneSchema, windowSchema, inWindows, formatWindow } from '../config/week.js';
import { zodIssues } from '../kernel/env-schema.js';

/** scrypt cost: N=2^14, r=8 (16 MiB, ~50 ms of CPU per check), the interactive-login figures of the scrypt paper. */
const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 } as const;

export const DJ_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const hashSchema = z.string().regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/, 'not a password hash written by `npm run dj`');

const accountSchema = z
  .object({
    user: z.string().regex(DJ_NAME, 'letters, digits, . _ - (at most 64)'),
    /** Channel ids the DJ may broadcast into. */
    channels: z.array(z.string().min(1)).min(1, 'at least one channel'),
    hash: hashSchema,
    /** When the DJ may go live; none: any time. */
    windows: z.array(windowSchema).optional(),
    timezone: timeZoneSchema.default('UTC'),
  })
  .strict();
export type DjAccount = z.infer<typeof accountSchema>;

const fileSchema = z
  .object({ djs: z.array(accountSchema) })
  .strict()
  .superRefine((f, ctx) => {
    const seen = new Set<string>();
    f.djs.forEach((d, i) => {
      if (seen.has(d.user)) ctx.addIssue({ code: 'custom', message: `user "${d.user}" appears twice`, path: ['djs', i, 'user'] });
      seen.add(d.user);
    });
  });
export type DjFile = z.infer<typeof fileSchema>;

function scrypt(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Whether `password` matches `hash`, in constant time for a given hash. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const [, n, r, p, salt, key] = hash.split('$');
  const expected = Buffer.from(key ?? '', 'base64');
  const N = Number(n);
  // Costs from the file are bounded: a hand-edited hash must not make a check take minutes or gigabytes.
  if (!(N >= 1024 && N <= 1 << 20 && Number(r) <= 32 && Number(p) <= 16) || expected.length < 16) return false;
  const got = await scrypt(password, Buffer.from(salt ?? '', 'base64'), expected.length, {
    N,
    r: Number(r),
    p: Number(p),
    maxmem: 256 * N * Number(r) + 1024 * 1024,
  });
  return timingSafeEqual(got, expected);
}

/** The accounts in `file`; none if it does not exist. Throws PlaylistError (file, JSON path, reason) if it is malformed. */
export async function readDjFile(file: string): Promise<DjFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { djs: [] };
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new PlaylistError(file, [{ where: '', message: `not JSON: ${(err as Error).message}` }]);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) throw new PlaylistError(file, zodIssues(parsed.error));
  return parsed.data;
}

/** Write atomically, readable by the owner only (it holds password hashes). */
export async function writeDjFile(file: string, data: DjFile): Promise<void> {
  const checked = fileSchema.parse(data);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(checked, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, file);
}

/** Why `dj` may not broadcast into `channel` at `now`, or null if they may. */
export function refusal(dj: DjAccount, channel: string, now: Date): string | null {
  if (!dj.channels.includes(channel)) return `DJ ${dj.user} may not broadcast into channel ${channel}`;
  if (dj.windows && dj.windows.length > 0 && !inWindows(dj.windows, dj.timezone, now)) {
    return `outside DJ ${dj.user}'s hours (${dj.windows.map(formatWindow).join('; ')}, ${dj.timezone})`;
  }
  return null;
}

/**
 * DJS_FILE as the station reads it at each sign-in: parsed once per version
 * of the file (its inode, size and modification time), so a flood of
 * sign-ins does not parse it again and again, and an unreadable version is
 * reported once, not at every attempt. An unreadable file refuses every DJ
 * (the caller answers 503: the station's fault, not the DJ's password).
 */
export class DjAccountsFile {
  private version = '';
  private last: DjFile | Error = { djs: [] };

  constructor(
    readonly file: string,
    private readonly onBroken: (err: Error) => void,
  ) {}

  async read(): Promise<DjFile | Error> {
    let version: string;
    try {
      const st = await stat(this.file);
      version = `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch (err) {
      version = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    }
    if (version === this.version) return this.last;
    this.version = version;
    try {
      this.last = await readDjFile(this.file);
    } catch (err) {
      this.last = err instanceof Error ? err : new Error(String(err));
      this.onBroken(this.last);
    }
    return this.last;
  }
}
