/**
 * Files the station reads from folders other people can write to (the
 * playlists folder, MEDIA_DIRS) are looked at as an attacker would leave
 * them: a FIFO that blocks a reader forever, a link to /dev/zero that never
 * ends, a link out of the folder to /etc, a sparse file of a terabyte. Only
 * regular files inside the allowed folders, after every link is resolved,
 * are read, and never more than a bound.
 */
import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import path from 'node:path';
import { UnsafeFileError } from '../errors.js';

/** Whether `abs` is `root` or below it (both already absolute and resolved). */
export function isInside(abs: string, root: string): boolean {
  return abs === root || abs.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

/**
 * `file` with every symbolic link resolved, if it is a regular file of at
 * most `maxBytes` inside one of `roots` (themselves resolved too); else an
 * UnsafeFileError saying which rule it broke.
 */
export async function checkedRegularFile(file: string, roots: readonly string[], maxBytes: number): Promise<{ real: string; size: number }> {
  let real: string;
  try {
    real = await realpath(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UnsafeFileError(file, code === 'ENOENT' ? 'no such file (or a link to nothing)' : `cannot be resolved (${code ?? String(err)})`);
  }
  const realRoots = await Promise.all(roots.map((r) => realpath(r).catch(() => path.resolve(r))));
  if (!realRoots.some((r) => isInside(real, r))) {
    throw new UnsafeFileError(file, `resolves to ${real}, outside the allowed folders (${roots.join(', ')})`);
  }
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
  const handle = await open(real, constants.O_RDONLY | constants.O_NONBLOCK).catch((err: NodeJS.ErrnoException) => {
    throw new UnsafeFileError(file, `cannot be opened (${err.code ?? err.message})`);
  });
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new UnsafeFileError(file, `is not a regular file (${kindOf(st)}); only regular files are read`);
    if (st.size > maxBytes) throw new UnsafeFileError(file, `is ${st.size} bytes, over the ${maxBytes}-byte limit`);
    return { real, size: st.size };
  } finally {
    await handle.close();
  }
}

/** Read a file checked by checkedRegularFile, never more than `maxBytes` whatever it grows to meanwhile. */
export async function readRegularFile(file: string, roots: readonly string[], maxBytes: number): Promise<Buffer> {
  const { real } = await checkedRegularFile(file, roots, maxBytes);
  const handle = await open(real, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new UnsafeFileError(file, 'changed into something other than a regular file');
    const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1);
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
