import path from 'node:path';
import { PlaylistError, UnsafeFileError, type ConfigIssue } from '../kernel/errors.js';
import { readRegularFile } from './safe-files.js';
import { formatPath, zodIssues } from '../kernel/env-schema.js';
import { MAX_PLAYLIST_BYTES, playlistSchema, type Entry, type Playlist } from './playlist.js';

/** A playlist file that passed every check, with `file` track paths made absolute. */
export interface LoadedPlaylist {
  /** Channel id: the file name without `.json`. */
  id: string;
  file: string;
  playlist: Playlist;
}

/** Channel ids double as URL segments and log fields: keep them plain. */
export const CHANNEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Read and validate one playlist file. Every problem is reported with the
 * file, the JSON path and the reason; nothing is half-applied.
 *
 * @param roots folders `file` tracks must stay inside (PLAYLISTS_DIR first).
 * @param read the file's bytes, when the caller has already read them safely.
 */
export async function loadPlaylistFile(file: string, roots: readonly string[], read?: Buffer): Promise<LoadedPlaylist> {
  const id = path.basename(file, '.json');
  if (!CHANNEL_ID.test(id)) {
    throw new PlaylistError(file, [{ where: '', message: `file name "${id}" is not a valid channel id (letters, digits, . _ -, up to 64)` }]);
  }
  const bytes = read ?? (await readPlaylistBytes(file, roots[0] ?? path.dirname(file)));
  const playlist = parsePlaylist(file, bytes);
  const issues = checkTrackPaths(path.dirname(file), playlist, roots);
  if (issues.length > 0) throw new PlaylistError(file, issues);
  return { id, file, playlist };
}

/**
 * A playlist file's bytes: a regular file inside the playlists folder (links
 * resolved), at most MAX_PLAYLIST_BYTES, read with a bound.
 */
export async function readPlaylistBytes(file: string, dir: string): Promise<Buffer> {
  try {
    return await readRegularFile(file, [dir], MAX_PLAYLIST_BYTES);
  } catch (err) {
    if (!(err instanceof UnsafeFileError)) throw err;
    throw new PlaylistError(file, [{ where: '', message: err.message.slice(file.length + 2) }], { cause: err });
  }
}

/** Decode, parse and validate playlist bytes; pure, so tests can feed any input. */
export function parsePlaylist(file: string, bytes: Uint8Array): Playlist {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new PlaylistError(file, [{ where: '', message: 'file is not valid UTF-8 text' }], { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new PlaylistError(file, [{ where: '', message: `not valid JSON: ${jsonErrorAt(text, cause)}` }], { cause });
  }
  const parsed = playlistSchema.safeParse(json);
  if (!parsed.success) throw new PlaylistError(file, zodIssues(parsed.error));
  return parsed.data;
}

/**
 * Make local paths (`file` songs, `folder` and `m3u` collections, `art`) absolute,
 * in every list of the playlist, and refuse any that escape the allowed roots.
 */
function checkTrackPaths(dir: string, playlist: Playlist, roots: readonly string[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const lists: [PropertyKey[], Entry[]][] = [
    [['tracks'], playlist.tracks],
    ...playlist.schedule.map((b, i): [PropertyKey[], Entry[]] => [['schedule', i, 'tracks'], b.tracks]),
    ...(playlist.jingles ? [[['jingles', 'tracks'], playlist.jingles.tracks] as [PropertyKey[], Entry[]]] : []),
  ];
  const art = (where: PropertyKey[], holder: { art?: string | undefined }): void => {
    if (holder.art === undefined || /^https?:\/\//i.test(holder.art)) return;
    const abs = resolveTrackPath(holder.art, dir, roots);
    if (abs === null)
      issues.push({
        where: formatPath([...where, 'art']),
        message: `picture "${holder.art}" is outside the playlists folder${roots.length > 1 ? ' and MEDIA_DIRS' : ''}`,
      });
    else holder.art = abs;
  };
  art([], playlist);
  for (const [where, entries] of lists) {
    entries.forEach((t, i) => art([...where, i], t));
    entries.forEach((t, i) => {
      if (t.source !== 'file' && t.source !== 'folder' && !(t.source === 'm3u' && t.path !== undefined)) return;
      const given = t.path!;
      const abs = resolveTrackPath(given, dir, roots);
      if (abs === null) {
        const what = t.source === 'folder' ? 'folder' : t.source === 'm3u' ? 'playlist file' : 'file';
        issues.push({
          where: formatPath([...where, i, 'path']),
          message: `${what} "${given}" is outside the playlists folder${roots.length > 1 ? ' and MEDIA_DIRS' : ''}`,
        });
      } else {
        t.path = abs;
      }
    });
  }
  return issues;
}

/** `p` made absolute against `dir`, or null when it lies outside every root. */
export function resolveTrackPath(p: string, dir: string, roots: readonly string[]): string | null {
  const abs = path.resolve(dir, p);
  const inside = roots.map((r) => path.resolve(r)).some((r) => abs === r || abs.startsWith(r + path.sep));
  return inside ? abs : null;
}

/** JSON.parse's message plus the line and column of the first bad character. */
function jsonErrorAt(text: string, err: unknown): string {
  const message = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ');
  const pos = firstBadChar(text);
  if (pos === null) return message;
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  return `${message} (line ${line}, column ${column})`;
}

/**
 * Where JSON.parse fails on `text`: the position it names; else `text.length`
 * when it ran out of input; else -1 (a bad token it did not place).
 */
function stopAt(text: string): number | null {
  try {
    JSON.parse(text);
    return null;
  } catch (e) {
    const message = e instanceof Error ? e.message : '';
    const m = /position (\d+)/.exec(message);
    if (m) return Number(m[1]);
    return /end of (JSON )?input/i.test(message) ? text.length : -1;
  }
}

/**
 * Where JSON goes wrong. Node 20 names a position for most errors but not
 * all ("Unexpected token ... is not valid JSON"), so then: a prefix of valid
 * JSON only fails by running out of input; binary-search the shortest prefix
 * that fails otherwise. Its last character is the culprit.
 */
function firstBadChar(text: string): number | null {
  const whole = stopAt(text);
  if (whole === null) return null;
  if (whole >= 0) return Math.min(whole, text.length);
  const failsInside = (n: number): boolean => {
    const at = stopAt(text.slice(0, n));
    return at !== null && at < n;
  };
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (failsInside(mid)) hi = mid;
    else lo = mid + 1;
  }
  return Math.max(0, lo - 1);
}
