/**
 * Files the station reads from folders other people can write to (the
 * playlists folder, MEDIA_DIRS) are looked at as an attacker would leave
 * them: a FIFO that blocks a reader forever, a link to /dev/zero that never
 * ends, a link out of the folder to /etc, a sparse file of a terabyte. Only
 * regular files inside the allowed folders, after every link is resolved,
 * are read, and never more than a bound.
 */
import { constants, existsSync } from 'node:fs';
import { open, readlink, realpath, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { UnsafeFileError } from '../kernel/errors.js';

/** Whether `abs` is `root` or below it (both already absolute and resolved). */
export function isInside(abs: string, root: string): boolean {
  return abs === root || abs.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

/**
 * Open `file` for reading if it is a regular file of at most `maxBytes`
 * inside one of `roots`; else an UnsafeFileError saying which rule it broke.
 * The rules are checked on the file as opened (the kernel's own name for the
 * descriptor, and its fstat), not on a path looked at before: a link or
 * rename put in place between a check and an open cannot slip another file
 * through. The caller closes the handle.
 */
async function openChecked(file: string, roots: readonly string[], maxBytes: number): Promise<{ handle: FileHandle; real: string; size: number }> {
  // A first look at the path keeps devices outside the folders from even being opened (a tape rewinds on open).
  const outside = async (real: string): Promise<string | null> => {
    const realRoots = await Promise.all(roots.map((r) => realpath(r).catch(() => path.resolve(r))));
    return realRoots.some((r) => isInside(real, r)) ? null : `resolves to ${real}, outside the allowed folders (${roots.join(', ')})`;
  };
  let seen: string;
  try {
    seen = await realpath(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UnsafeFileError(file, code === 'ENOENT' ? 'no such file (or a link to nothing)' : `cannot be resolved (${code ?? String(err)})`);
  }
  const early = await outside(seen);
  if (early) throw new UnsafeFileError(file, early);
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
  const handle = await open(seen, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW).catch((err: NodeJS.ErrnoException) => {
    throw new UnsafeFileError(file, err.code === 'ELOOP' ? 'became a link while being opened' : `cannot be opened (${err.code ?? err.message})`);
  });
  try {
    // What was opened, as the kernel names it: a folder on the way swapped for a link shows here.
    const real = PROC_FDS ? await readlink(`/proc/self/fd/${handle.fd}`) : seen;
    const late = await outside(real);
    if (late) throw new UnsafeFileError(file, late);
    const st = await handle.stat();
    if (!st.isFile()) throw new UnsafeFileError(file, `is not a regular file (${kindOf(st)}); only regular files are read`);
    if (st.size > maxBytes) throw new UnsafeFileError(file, `is ${st.size} bytes, over the ${maxBytes}-byte limit`);
    return { handle, real, size: st.size };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** Whether this system names open descriptors under /proc (Linux): checks and pins use it. */
const PROC_FDS = existsSync('/proc/self/fd');

/**
 * `file` with every symbolic link resolved, if it is a regular file of at
 * most `maxBytes` inside one of `roots` (themselves resolved too); else an
 * UnsafeFileError saying which rule it broke.
 */
export async function checkedRegularFile(file: string, roots: readonly string[], maxBytes: number): Promise<{ real: string; size: number }> {
  const { handle, real, size } = await openChecked(file, roots, maxBytes);
  await handle.close();
  return { real, size };
}

/**
 * A checked file held open, so that what plays is what was checked: readers
 * (ffmpeg's probe, analysis and decoder) open `path`, the kernel's name for
 * this very descriptor (`/proc/<pid>/fd/<n>`), which reaches the checked
 * file whatever happens to its name afterwards (where /proc is missing,
 * not Linux, `path` is the resolved name, checked once). `close()` once
 * nothing will open it again.
 */
export interface PinnedFile {
  /** What readers open. */
  path: string;
  /** The file's own resolved name, for logs and keys. */
  real: string;
  size: number;
  close(): Promise<void>;
}

export async function pinRegularFile(file: string, roots: readonly string[], maxBytes: number): Promise<PinnedFile> {
  const { handle, real, size } = await openChecked(file, roots, maxBytes);
  let closed: Promise<void> | null = null;
  return {
    path: PROC_FDS ? `/proc/${process.pid}/fd/${handle.fd}` : real,
    real,
    size,
    close: () => (closed ??= handle.close()),
  };
}

/** Read a file checked as checkedRegularFile does, from the descriptor checked, never more than `maxBytes` whatever it grows to meanwhile. */
export async function readRegularFile(file: string, roots: readonly string[], maxBytes: number): Promise<Buffer> {
  const { handle, size } = await openChecked(file, roots, maxBytes);
  try {
    const buf = Buffer.alloc(Math.min(size, maxBytes) + 1);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await handle.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got > maxBytes) throw new UnsafeFileError(file, `grew past the ${maxBytes}-byte limit while being read`);
    return buf.subarray(0, got);
  } finally {
    await handle.close();
  }
}

function kindOf(st: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a file';
}
