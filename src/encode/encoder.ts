import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { Logger } from 'pino';
import { MP3_FRAME_SAMPLES } from '../audio/mp3.js';
import { CHANNELS, SAMPLE_RATE } from '../audio/pcm.js';
import { EncoderError } from '../kernel/errors.js';
import { CHILD_SPAWN } from '../ffmpeg/child-env.js';
import { ffmpegCommand } from '../ffmpeg/command.js';
import { aacCoderFor } from './avcodec-lib.js';
import { lameInProcess } from './lame-lib.js';
import type { LamePool } from './lame-pool.js';

/**
 * Lifecycle: running --close()--> closing --> closed
 *            running --process dies--> failed (the channel starts a new one)
 */
export type EncoderStatus = 'running' | 'closing' | 'closed' | 'failed';

/**
 * Which program encodes. Both run the same libmp3lame with the same settings
 * and give byte-identical MP3 (checked by a test); the `lame` front end does
 * it with a tenth of ffmpeg's memory (no 200 shared libraries to map and
 * relocate) and about a third less CPU.
 */
export interface EncoderSpec {
  /** `lib`: libmp3lame loaded into this process (see lameInProcess); `lame`, `ffmpeg`: a child process. */
  tool: 'lib' | 'lame' | 'ffmpeg';
  /** The program, or for `lib` the shared library. */
  path: string;
  /** coreutils' `stdbuf`, when installed: lets `lame` write its output in blocks (see lameProcess). */
  stdbuf?: string | undefined;
  /** For `lib`: the worker threads to encode on, asked each time an encoder starts; null (or absent): this thread. */
  pool?: (() => LamePool | null) | undefined;
}

export interface EncoderOptions {
  /** What it makes: MP3 by `spec`'s tool, or AAC-LC in ADTS (ffmpeg's own encoder; spec's path must be ffmpeg's). Default mp3. */
  codec?: 'mp3' | 'aac';
  /**
   * How much audio the encoder may hold back before writing it out: the
   * channel's tick, since frames are only taken once a tick anyway. Fewer,
   * larger writes mean fewer wake-ups for node (each costs ~0.2 ms of CPU).
   */
  outputBlockMs: number;
}

/** A process (or worker session) seen as two pipes. */
interface Piped {
  input: Writable;
  output: Readable;
  kill(): void;
  /** Resolves when the process is gone: null after a clean exit, else what went wrong. */
  exited: Promise<string | null>;
}

/** A running encoder, whatever runs it: PCM in by call, its output to the callback it was started with. */
interface EncoderProcess {
  write(pcm: Buffer): void;
  /** Encode what it was given, then exit. */
  end(): void;
  /** Stop at once. */
  kill(): void;
  /** Resolves when it is gone: null after a clean exit, else what went wrong. */
  exited: Promise<string | null>;
}

/** Pipes as an encoder: what comes out of the output goes to `onData`. */
function piped(p: Piped, onData: (chunk: Buffer) => void): EncoderProcess {
  p.output.on('data', onData);
  return {
    write: (pcm) => void p.input.write(pcm),
    end: () => p.input.end(),
    kill: () => {
      p.input.destroy();
      p.kill();
    },
    exited: p.exited,
  };
}

/**
 * One continuous encoder for a channel's stream: raw PCM in, CBR MP3 (or
 * AAC, see EncoderOptions.codec) out. Being
 * one process for the channel's whole life is what makes seams gapless: no
 * encoder delay or padding is ever added between songs, and silence is just
 * zero samples.
 *
 * Events: `data` (Buffer of MP3 bytes), `status` (EncoderStatus), `failed` (Error).
 */
export class PcmEncoder extends EventEmitter {
  status: EncoderStatus = 'running';
  private readonly process: EncoderProcess;
  private readonly exited: Promise<void>;

  constructor(spec: EncoderSpec, bitrateKbps: number, logger: Logger, opts: EncoderOptions = { outputBlockMs: 0 }) {
    super();
    const onData = (chunk: Buffer): void => void this.emit('data', chunk);
    const pool = spec.tool === 'lib' && opts.codec !== 'aac' ? spec.pool?.() : null;
    this.process =
      opts.codec === 'aac'
        ? piped(aacProcess(spec.path, bitrateKbps, logger), onData)
        : spec.tool === 'lib'
          ? pool
            ? piped(pool.open(spec.path, bitrateKbps), onData)
            : libProcess(spec.path, bitrateKbps, onData)
          : piped(spec.tool === 'lame' ? lameProcess(spec, bitrateKbps, opts.outputBlockMs) : ffmpegProcess(spec.path, bitrateKbps, logger), onData);
    this.exited = this.process.exited.then((problem) => {
      if (this.status === 'closing' || this.status === 'closed') {
        this.setStatus('closed');
        return;
      }
      // Nobody asked it to stop: even a clean exit is a failure here.
      this.setStatus('failed');
      this.emit('failed', new EncoderError(spec.tool, problem ?? 'exited while the channel was feeding it'));
    });
  }

  /** Queue PCM (s16le, 44.1 kHz, stereo). Dropped once the encoder is not running. */
  write(pcm: Buffer): void {
    if (this.status === 'running') this.process.write(pcm);
  }

  private closing: Promise<void> | undefined;

  /** Let the encoder encode what it has and exit. A second call returns the first's promise. */
  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    if (this.status === 'running') {
      this.setStatus('closing');
      this.process.end();
      const timer = setTimeout(() => this.process.kill(), 2000);
      await this.exited;
      clearTimeout(timer);
    }
    await this.exited;
  }

  /** Stop at once. Idempotent. */
  destroy(): void {
    if (this.status === 'closed') return;
    if (this.status !== 'failed') this.setStatus('closing');
    this.process.kill();
  }

  private setStatus(next: EncoderStatus): void {
    if (this.status === next) return;
    this.status = next;
    this.emit('status', next);
  }
}

/**
 * LAME's own front end reading raw PCM on stdin; `-t` leaves out the LAME
 * tag, which an endless stream cannot have.
 *
 * Its stdout is a pipe, so the C library would hold output back in 4 KiB
 * blocks (~256 ms at 128 kbit/s: longer than the pacing lead). `--flush`
 * writes every frame instead, one wake-up for node per 26 ms frame. Run
 * through `stdbuf -o<bytes>`, LAME writes about one tick of frames at a time:
 * ~4 writes per 100 ms become one, and node's CPU for a channel drops from
 * ~1.25 to ~0.95 % of a core, with the frames still there before they are due.
 */
function lameProcess(spec: EncoderSpec, bitrateKbps: number, outputBlockMs: number): Piped {
  const khz = String(SAMPLE_RATE / 1000);
  const args = ['-r', '-s', khz, '--bitwidth', '16', '--signed', '--little-endian', '-m', CHANNELS === 2 ? 'j' : 'm'];
  // The output rate is pinned: LAME would otherwise lower it at low bitrates.
  args.push('-b', String(bitrateKbps), '--cbr', '--resample', khz, '-t', '--quiet', '-', '-');
  const framesPerBlock = Math.floor(outputBlockMs / ((MP3_FRAME_SAMPLES / SAMPLE_RATE) * 1000));
  const blockBytes = Math.round((framesPerBlock * MP3_FRAME_SAMPLES * bitrateKbps * 1000) / 8 / SAMPLE_RATE);
  const [command, argv] = spec.stdbuf && framesPerBlock >= 2 ? [spec.stdbuf, [`-o${blockBytes}`, spec.path, ...args]] : [spec.path, ['--flush', ...args]];
  const child = spawn(command, argv, { stdio: ['pipe', 'pipe', 'pipe'], ...CHILD_SPAWN });
  if (!child.stdin || !child.stdout || !child.stderr) {
    // Out of descriptors or processes (EMFILE, EAGAIN): node gives a child
    // without pipes and reports why in its 'error' event, next.
    const exited = new Promise<string | null>((resolve) => child.once('error', (err) => resolve(`${command}: cannot start: ${err.message}`)));
    return { input: new PassThrough(), output: new PassThrough(), kill: () => undefined, exited };
  }
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderr = (stderr + text).slice(-2000);
  });
  // Writes after the process died fail with EPIPE; the exit below says why it died.
  child.stdin.on('error', () => {});
  const exited = new Promise<string | null>((resolve) => {
    child.once('error', (err) => resolve(`${command}: ${err.message}`));
    child.once('close', (code, signal) => resolve(code === 0 ? null : `exited with ${signal ?? `code ${code}`}${problemLines(stderr)}`));
  });
  return { input: child.stdin, output: child.stdout, kill: () => child.kill('SIGKILL'), exited };
}

/** The library in this process; one that cannot start is reported as the encoder's failure, like a process that cannot. */
function libProcess(path: string, bitrateKbps: number, onData: (chunk: Buffer) => void): EncoderProcess {
  try {
    return lameInProcess(path, bitrateKbps, onData);
  } catch (err) {
    const why = `${path}: ${err instanceof Error ? err.message : String(err)}`;
    return { write: () => undefined, end: () => undefined, kill: () => undefined, exited: Promise.resolve(why) };
  }
}

/** Debian's libsndfile build of LAME warns on every start that raw input may be seeked; it is read as a stream. */
function problemLines(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.trim() && !/libsndfile|Compile without libsndfile/.test(l));
  return lines.length > 0 ? `: ${lines.slice(-3).join(' | ')}` : '';
}

/**
 * AAC-LC through ffmpeg's native encoder, as ADTS frames. Debian's ffmpeg has
 * no HE-AAC encoder (libfdk_aac is not free software); at 64 kbit/s and up,
 * LC is what Icecast stations send anyway.
 */
function aacProcess(path: string, bitrateKbps: number, logger: Logger): Piped {
  return ffmpegProcess(path, bitrateKbps, logger, 'aac');
}

function ffmpegProcess(path: string, bitrateKbps: number, logger: Logger, codec: 'mp3' | 'aac' = 'mp3'): Piped {
  const input = new PassThrough({ highWaterMark: 256 * 1024 });
  const output = new PassThrough();
  const command = ffmpegCommand(path, { stdoutLines: 20 })
    .input(input)
    .inputFormat('s16le')
    // Raw PCM needs no probing; by default ffmpeg would read 5 s of it before encoding anything.
    .inputOptions(['-ar', String(SAMPLE_RATE), '-ac', String(CHANNELS), '-probesize', '32', '-analyzeduration', '0'])
    .noVideo()
    .audioCodec(codec === 'aac' ? 'aac' : 'libmp3lame')
    .audioBitrate(bitrateKbps)
    .audioFrequency(SAMPLE_RATE)
    .audioChannels(CHANNELS)
    .format(codec === 'aac' ? 'adts' : 'mp3')
    // No Xing/ID3 header: the stream is endless and must be frames only.
    // Flush every packet so audio is never held back in ffmpeg's buffer.
    .outputOptions([
      ...(codec === 'mp3' ? ['-write_xing', '0', '-id3v2_version', '0'] : ['-aac_coder', aacCoderFor(bitrateKbps)]),
      '-flush_packets',
      '1',
      '-hide_banner',
      '-loglevel',
      'error',
    ]);
  const exited = new Promise<string | null>((resolve) => {
    command.on('start', (line: string) => logger.debug({ command: line }, 'encoder started'));
    command.on('end', () => resolve(null));
    command.on('error', (err: Error, _stdout: string | null, stderr: string | null) => resolve(`${err.message} ${stderr ?? ''}`.trim()));
  });
  command.pipe(output, { end: true });
  return { input, output, kill: () => command.kill('SIGKILL'), exited };
}
