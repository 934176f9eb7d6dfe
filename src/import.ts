/**
 * `npm run import -- qq:<disstid> playlists/mine.json`: turn a QQ Music
 * playlist into a playlist file, through api-proxy (API_PROXY_URL,
 * API_PROXY_TOKEN). Refuses to overwrite an existing file without --force.
 */
import { existsSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { errorSchema, playlistSchema as qqPlaylistSchema, PLAYLIST_ID } from './kernel/api-proxy-contract.js';
import { playlistSchema } from './config/playlist.js';
import { CHANNEL_ID } from './config/playlist-file.js';
import { isEntry } from './kernel/service.js';

function fail(message: string): never {
  process.stderr.write(`import: ${message}\n`);
  process.exit(2);
}

export function toPlaylistFile(
  id: string,
  qq: { title: string; songs: { mid: string; title: string; artists: { name: string }[]; album: { name: string } | null }[] },
) {
  return playlistSchema.parse({
    name: qq.title.slice(0, 200) || id,
    mount: `/${id}.mp3`,
    description: `Imported from QQ Music playlist`,
    order: 'shuffle',
    tracks: qq.songs.map((s) => ({
      source: 'qq',
      id: s.mid,
      title: s.title.slice(0, 500) || undefined,
      artist:
        s.artists
          .map((a) => a.name)
          .join(' / ')
          .slice(0, 500) || undefined,
      album: s.album?.name.slice(0, 500) || undefined,
    })),
  });
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { force: { type: 'boolean', default: false } } });
  const [source, target] = positionals;
  const m = /^qq:(\d+)$/.exec(source ?? '');
  if (!m || !target) fail('usage: npm run import -- qq:<disstid> playlists/<name>.json [--force]');
  const disstid = m[1]!;
  if (!PLAYLIST_ID.test(disstid)) fail(`"${disstid}" is not a QQ playlist id`);
  const id = path.basename(target, '.json');
  if (!target.endsWith('.json') || !CHANNEL_ID.test(id)) fail(`${target}: the file must be <channel-id>.json (letters, digits, . _ -)`);
  if (existsSync(target) && !values.force) fail(`${target} exists; add --force to replace it`);
  const base = process.env.API_PROXY_URL;
  const token = process.env.API_PROXY_TOKEN;
  if (!base || !token) fail('set API_PROXY_URL and API_PROXY_TOKEN');
  process.stderr.write(`fetching QQ playlist ${disstid} through ${base} ...\n`);
  const res = await request(new URL(`/v1/qq/playlists/${disstid}`, base), {
    headers: { authorization: `Bearer ${token}` },
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  const body: unknown = await res.body.json().catch(() => null);
  if (res.statusCode !== 200) {
    const e = errorSchema.safeParse(body);
    fail(e.success ? `${e.data.error.code}: ${e.data.error.message}` : `api-proxy answered ${res.statusCode}`);
  }
  const qq = qqPlaylistSchema.parse(body);
  process.stderr.write(`"${qq.title}": ${qq.songs.length} of ${qq.total} songs\n`);
  const playlist = toPlaylistFile(id, qq);
  const tmp = `${target}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(playlist, null, 2)}\n`);
  await rename(tmp, target); // a running station never sees half a file
  process.stderr.write(`wrote ${target}: ${playlist.tracks.length} tracks on mount ${playlist.mount}\n`);
}

if (isEntry(import.meta.url)) void main();
