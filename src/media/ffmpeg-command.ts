import ffmpeg from 'fluent-ffmpeg';

type Spawner = { _getFfmpegPath(cb: (err: Error | null, path: string) => void): void };

/**
 * A fluent-ffmpeg command bound to one ffmpeg binary, whose kill() works at
 * any moment. Two fluent-ffmpeg behaviours are mended here, once for every
 * invocation:
 * - the binary path lives in module-wide state (setFfmpegPath), so two
 *   binaries (a fast-starting one for decoders, the system one for encoders)
 *   would race on it: the path is resolved per command instead;
 * - ffmpeg is spawned asynchronously after run(), and kill() is a no-op until
 *   then: a decoder stopped in that window left an ffmpeg blocked on a pipe
 *   nobody reads, forever. An early kill is remembered and carried out as soon
 *   as the process exists.
 */
export function ffmpegCommand(ffmpegPath: string, options: ffmpeg.FfmpegCommandOptions = {}): ffmpeg.FfmpegCommand {
  const command = ffmpeg(options);
  // fluent-ffmpeg resolves the binary through this method before every spawn.
  (command as unknown as Spawner)._getFfmpegPath = (cb) => cb(null, ffmpegPath);
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
