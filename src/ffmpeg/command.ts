import { createRequire } from 'node:module';
import ffmpeg from 'fluent-ffmpeg';
import { CHILD_SPAWN } from './child-env.js';
import { sharedLauncher, type LaunchedProcess, type Launcher } from './launcher.js';

type Internals = {
  _getFfmpegPath(cb: (err: Error | null, path: string) => void): void;
  _spawnFfmpeg(args: string[], options: SpawnOptions, ...callbacks: unknown[]): void;
  _inputs: { source: unknown }[];
  options: { stdoutLines?: number };
};

/** What fluent-ffmpeg's run() passes to _spawnFfmpeg. */
interface SpawnOptions {
  captureStdout?: boolean;
  stdoutLines?: number;
  [key: string]: unknown;
}

interface Ring {
  append(data: string | Buffer): void;
  close(): void;
}
type ProcessCallback = (process: LaunchedProcess, stdout: Ring, stderr: Ring) => void;
type EndCallback = (err: Error | null, stdout?: Ring, stderr?: Ring) => void;

/**
 * A fluent-ffmpeg command bound to one ffmpeg binary, whose kill() works at
 * any moment. Five fluent-ffmpeg behaviours are mended here, once for every
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
 *   the terminal's signals: see CHILD_SPAWN;
 * - forking the station for every song cost its main thread ~10 ms per
 *   process at scale: ffmpeg is started by the launcher (launcher.ts).
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
  internals._spawnFfmpeg = (args, opts, ...callbacks) => {
    // A stream input is written to ffmpeg's stdin from here: those few (a DJ's decoder) are spawned directly.
    const launcher = internals._inputs.every((i) => typeof i.source === 'string') ? sharedLauncher() : null;
    // fluent-ffmpeg's own calling forms: (args, options, processCB, endCB) for a run, (args, options, endCB) for its capability checks.
    const [processCB, endCB] = (callbacks.length >= 2 ? callbacks : [() => {}, callbacks[0]]) as [ProcessCallback, EndCallback];
    if (!launcher || !launchFfmpeg(launcher, ffmpegPath, args, opts, internals.options.stdoutLines, [processCB, endCB])) {
      spawnFfmpeg(args, { ...opts, ...CHILD_SPAWN }, ...callbacks);
    }
  };
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

const utils = createRequire(import.meta.url)('fluent-ffmpeg/lib/utils') as { linesRing(max: number): Ring };

/**
 * fluent-ffmpeg's own _spawnFfmpeg, with the process started by the
 * launcher: the same stdout/stderr rings and the same end (after the exit
 * and the pipes' close), so every listener of the command sees what it
 * would of a process spawned here. False when the launcher cannot take it.
 */
function launchFfmpeg(
  launcher: Launcher,
  path: string,
  args: string[],
  options: SpawnOptions,
  defaultLines: number | undefined,
  [processCB, endCB]: [ProcessCallback, EndCallback],
): boolean {
  const maxLines = options.stdoutLines ?? defaultLines ?? 100;
  return launcher.launch(
    path,
    args,
    (proc) => {
      const stdoutRing = utils.linesRing(maxLines);
      const stderrRing = utils.linesRing(maxLines);
      let stdoutClosed = false;
      let stderrClosed = false;
      let exited = false;
      let exitError: Error | null = null;
      const settle = (err?: Error): void => {
        if (err) exitError = err;
        if (exited && (stdoutClosed || !options.captureStdout) && stderrClosed) endCB(exitError, stdoutRing, stderrRing);
      };
      const stdout = proc.stdout!;
      const stderr = proc.stderr!;
      stderr.setEncoding('utf8');
      proc.on('exit', (code: number | null, signal: string | null) => {
        exited = true;
        settle(signal ? new Error(`ffmpeg was killed with signal ${signal}`) : code ? new Error(`ffmpeg exited with code ${code}`) : undefined);
      });
      if (options.captureStdout) {
        stdout.on('data', (data: Buffer) => stdoutRing.append(data));
        stdout.on('close', () => {
          stdoutRing.close();
          stdoutClosed = true;
          settle();
        });
      }
      stderr.on('data', (data: string) => stderrRing.append(data));
      stderr.on('close', () => {
        stderrRing.close();
        stderrClosed = true;
        settle();
      });
      processCB(proc, stdoutRing, stderrRing);
    },
    (err) => endCB(err),
  );
}
