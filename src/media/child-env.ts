/**
 * The environment every child process (ffmpeg, lame) starts with: enough to
 * find libraries and pick a locale, and nothing else. The streamer's own
 * environment holds Icecast passwords and tokens; a decoder fed hostile
 * media has no business being able to read them from /proc/self/environ.
 */
const KEEP = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TMPDIR', 'LD_LIBRARY_PATH'];

export function childEnv(source: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of KEEP) if (source[name] !== undefined) env[name] = source[name];
  return env;
}
