import ffmpeg from 'fluent-ffmpeg';
import { CHILD_SPAWN } from './child-env.js';

type Internals = {
  _getFfmpegPath(cb: (err: Error | null, path: string) => void): void;
  _spawnFfmpeg(args: string[], options: Record<string, unknown>, ...callbacks: unknown[]): void;
};

/**
 * A fluent-ffmpeg command bound to one ffmpeg binary, whose kill() works at
 * any moment. Four fluent-ffmpeg behaviours are mended here, once for every
 * invocation:
 * - the binary path lives in module-wide state (setFfmpegPath), so two
 *   binaries (a fast-starting one for decoders, the system one for encoders)
 *   would race on it: the path is resolved per command instead;
 * - ffmpeg is spawned asynchronously after run(), and kill() is a no-op until
 *   then: a decoder stopped in that window left an ffmpeg blocked on a pipe
 *   nobody reads, forever. An early kill is remembered and carried out as soon
 *   as the process exists;
 * - a spawn that fails for want of descriptors or processes (EMFILE, EAGAIN)
 *   gives a child without pipes, and fluent-ffmpeg then throws a TypeError
 *   from a callback, which would end the whole station. The throw is caught
 *   here; the child's own 'error' event, which node sends next, still
 *   reaches the command's 'error' listeners;
 * - children would inherit the whole environment, secrets included, and
 *   the terminal's signals: see CHILD_SPAWN.
 */
export function ffmpegCommand(ffmpegPath: string, options: ffmpeg.FfmpegCommandOptions = {}): ffmpeg.FfmpegCommand {
  const command = ffmpeg(options);
  const internals = command as unknown as Internals;
  // fluent-ffmpeg resolves the binary through this method right before it
  // spawns, and carries on synchronously inside the callback.
  internals._getFfmpegPath = (cb) => {
    try {
      cb(null, ffmpegPath);
    } catch (err) {
      // spawn() itself threw (errors node does not turn into an 'error' event): report it.
      if ((err as { syscall?: string }).syscall?.startsWith('spawn')) command.emit('error', err, null, null);
    }
  };
  const spawnFfmpeg = internals._spawnFfmpeg.bind(command);
  internals._spawnFfmpeg = (args, opts, ...callbacks) => spawnFfmpeg(args, { ...opts, ...CHILD_SPAWN }, ...callbacks);
  const kill = command.kill.bind(command);
  let started = false;
  let wanted: string | null = null;
  command.once('start', () => {
    started = true;
    if (wanted) kill(wanted);
  });
  command.kill = (signal = 'SIGKILL') => {
    wanted = signal;
    if (started) kill(signal);
    return command;
  };
  return command;
}
