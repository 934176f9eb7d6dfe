import type ffmpeg from 'fluent-ffmpeg';

/**
 * A kill switch for a fluent-ffmpeg command that works at any moment.
 * fluent-ffmpeg spawns the process asynchronously after run(), and its own
 * kill() is a no-op until then: a decoder stopped in that window would leave
 * an ffmpeg blocked on a pipe nobody reads, forever. Here a kill that comes
 * too early is remembered and carried out as soon as the process exists.
 */
export function killSwitch(command: ffmpeg.FfmpegCommand): (signal?: NodeJS.Signals) => void {
  let wanted: NodeJS.Signals | null = null;
  let started = false;
  command.once('start', () => {
    started = true;
    if (wanted) command.kill(wanted);
  });
  return (signal = 'SIGKILL') => {
    wanted = signal;
    if (started) command.kill(signal);
  };
}
