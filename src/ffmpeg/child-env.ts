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

/**
 * How every child is spawned. `detached`: in a process group of its own, so
 * a terminal's Ctrl-C (sent to the whole foreground group) reaches only the
 * station, which then stops its children in order; before, lame died of the
 * SIGINT first and the station logged an encoder failure while draining.
 * Children never outlive the station by much anyway: a decoder's next write
 * and lame's next read fail once the station's end of the pipe is gone.
 */
export const CHILD_SPAWN = {
  get env(): NodeJS.ProcessEnv {
    return childEnv();
  },
  detached: true,
} as const;
