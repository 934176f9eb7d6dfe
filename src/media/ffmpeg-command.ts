import ffmpeg from 'fluent-ffmpeg';

/**
 * A fluent-ffmpeg command bound to one ffmpeg binary. fluent-ffmpeg keeps the
 * binary path in module-wide state (setFfmpegPath), so two binaries (a fast
 * starting one for decoders, the system one for encoders) would race on it;
 * resolving the path per command keeps each invocation on the binary it was
 * built for.
 */
export function ffmpegCommand(ffmpegPath: string, options: ffmpeg.FfmpegCommandOptions = {}): ffmpeg.FfmpegCommand {
  const command = ffmpeg(options);
  // fluent-ffmpeg resolves the binary through this method before every spawn.
  (command as unknown as { _getFfmpegPath(cb: (err: Error | null, path: string) => void): void })._getFfmpegPath = (cb) => cb(null, ffmpegPath);
  return command;
}
