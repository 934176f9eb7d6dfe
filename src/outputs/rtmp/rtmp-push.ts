import { spawn, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { CHILD_SPAWN } from '../../ffmpeg/child-env.js';
import { exponentialBackoff } from '../../kernel/retry.js';
import { REAL_TIMERS, type Timers } from '../../kernel/lifecycle.js';
import type { AudioSource, NowPlaying } from '../../playout/now-playing.js';

/** Reconnects: 1 s, doubling up to a minute while the server keeps refusing. */
const RESTART = exponentialBackoff({ baseMs: 1000, capMs: 60_000 });
/** A push that ran this long was healthy: its failure starts the backoff afresh. */
const HEALTHY_MS = 60_000;
/** Audio or pictures queued for ffmpeg beyond this: it is stuck (the server stopped reading); it is restarted. */
const MAX_QUEUED = 2 * 1024 * 1024;
/** Shown when there is no picture of any kind: a dark blue square (a 64x64 JPEG, scaled up). */
const PLAIN_PICTURE = Buffer.from(
  '/9j/4AAQSkZJRgABAgAAAQABAAD//gAQTGF2YzU5LjM3LjEwMAD/2wBDAAgQEBMQExYWFhYWFhoYGhsbGxoaGhobGxsdHR0iIiIdHR0bGx0dICAiIiUmJSMjIiMmJigoKDAwLi44ODpFRVP/xABNAAEBAAAAAAAAAAAAAAAAAAAABwEBAQEAAAAAAAAAAAAAAAAAAAMFEAEAAAAAAAAAAAAAAAAAAAAAEQEAAAAAAAAAAAAAAAAAAAAA/8AAEQgAQABAAwEiAAIRAAMRAP/aAAwDAQACEQMRAD8AkYDQQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAf/9k=',
  'base64',
);
/** The video: the picture twice a second, a keyframe every 2 s (YouTube wants one at least every 4 s). */
const FPS = 2;

export type RtmpState = 'connecting' | 'streaming' | 'waiting' | 'closed';

export interface RtmpPushOptions {
  /** rtmp:// or rtmps:// URL of the application, without the key. */
  url: string;
  /** The stream key (from the environment): appended to the URL, never logged. */
  key: string;
  ffmpeg: string;
  /** What the source sends: `aac` (ADTS, copied as is) or `mp3` (encoded to AAC here). */
  audio: 'aac' | 'mp3';
  /** The picture for what plays now: a JPEG file (the song's cover, else the channel's or station's). */
  picture: (np: NowPlaying | null) => Promise<string | null>;
  log: Logger;
  timers?: Timers;
  now?: () => number;
}

/**
 * A channel pushed to an RTMP server (YouTube, Twitch, an nginx-rtmp relay):
 * the channel's audio as AAC with the song's cover art as the video
 * (platforms want a video track), through one ffmpeg that reads the audio
 * on stdin and the picture as JPEGs on a pipe of its own, two for every
 * second of audio, so video and audio keep the same time. It reconnects with
 * backoff whenever ffmpeg ends; the channel never waits for it.
 *
 * Lifecycle: connecting --"Output #0" from ffmpeg--> streaming --exit-->
 * waiting --backoff--> connecting; any --close()--> closed.
 */
export class RtmpPush {
  state: RtmpState = 'waiting';
  connections = 0;
  lastError: string | null = null;
  private child: ChildProcess | null = null;
  private stdin: Writable | null = null;
  private pictures: Writable | null = null;
  private failures = 0;
  private startedAt = 0;
  private cancelRestart: (() => void) | null = null;
  private picture: Buffer = PLAIN_PICTURE;
  private readonly timers: Timers;
  private readonly now: () => number;
  /** Stream position (s) at which the next picture is due: pictures are paced by the audio, so video time never drifts from it. */
  private nextPictureAt: number | null = null;
  private readonly onAudio = (data: Buffer, pos: number): void => {
    if (!this.stdin || !this.pictures || this.state === 'closed') return;
    this.nextPictureAt ??= pos;
    while (this.nextPictureAt <= pos) {
      this.feed(this.pictures, this.picture);
      this.nextPictureAt += 1 / FPS;
    }
    this.feed(this.stdin, data);
  };
  private readonly onTrack = (np: NowPlaying): void => void this.loadPicture(np);

  constructor(
    private readonly source: AudioSource,
    private readonly opts: RtmpPushOptions,
  ) {
    this.timers = opts.timers ?? REAL_TIMERS;
    this.now = opts.now ?? (() => performance.now());
  }

  /** Where it pushes, without the key. */
  get target(): string {
    return this.opts.url;
  }

  start(): void {
    this.source.on('audio', this.onAudio);
    this.source.on('track', this.onTrack);
    void this.loadPicture(this.source.nowPlaying);
    this.spawn();
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.source.off('audio', this.onAudio);
    this.source.off('track', this.onTrack);
    this.cancelRestart?.();
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('close', () => resolve()));
    // 'q' on stdin would need stdin open; ending both inputs lets ffmpeg finish the FLV and leave.
    this.stdin?.end();
    this.pictures?.end();
    const kill = this.timers.after(3000, () => child.kill('SIGKILL'));
    await gone;
    kill();
  }

  private async loadPicture(np: NowPlaying | null): Promise<void> {
    try {
      const file = await this.opts.picture(np);
      const { readFile } = await import('node:fs/promises');
      this.picture = file ? await readFile(file) : PLAIN_PICTURE;
    } catch (err) {
      this.opts.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'RTMP: no picture for the video; keeping the last');
    }
  }

  private spawn(): void {
    if (this.state === 'closed') return;
    this.state = 'connecting';
    this.startedAt = this.now();
    const audioIn = this.opts.audio === 'aac' ? ['-f', 'aac'] : ['-f', 'mp3'];
    const args = [
      '-hide_banner',
      '-loglevel',
      'info',
      '-nostats',
      // The pictures: JPEGs on fd 3, FPS of them per second of audio (timed by their count); the audio on stdin.
      // Nothing to probe: the formats are known, and probing a 2 fps input would hold the start for seconds.
      ...['-thread_queue_size', '64', '-probesize', '32', '-analyzeduration', '0', '-f', 'mjpeg', '-framerate', String(FPS), '-i', 'pipe:3'],
      ...['-thread_queue_size', '1024', '-probesize', '32', '-analyzeduration', '0', ...audioIn, '-i', 'pipe:0'],
      ...['-map', '0:v', '-map', '1:a'],
      // The cover centred on a 1280x720 frame (16:9, what platforms show).
      ...['-vf', 'scale=720:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2,format=yuv420p'],
      // zerolatency: no lookahead (at 2 fps x264's would hold the video, and the audio with it, for seconds).
      ...[
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-tune',
        'zerolatency',
        '-r',
        String(FPS),
        '-g',
        String(FPS * 2),
        '-b:v',
        '400k',
        '-maxrate',
        '400k',
        '-bufsize',
        '800k',
      ],
      ...(this.opts.audio === 'aac' ? ['-c:a', 'copy'] : ['-c:a', 'aac', '-b:a', '128k']),
      ...['-f', 'flv', '-flvflags', 'no_duration_filesize', `${this.opts.url.replace(/\/$/, '')}/${this.opts.key}`],
    ];
    let child: ChildProcess;
    try {
      child = spawn(this.opts.ffmpeg, args, { stdio: ['pipe', 'ignore', 'pipe', 'pipe'], ...CHILD_SPAWN });
    } catch (err) {
      this.exited(`cannot start ffmpeg: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    this.child = child;
    this.stdin = child.stdin;
    this.pictures = child.stdio[3] as Writable | null;
    this.stdin?.on('error', () => undefined);
    this.pictures?.on('error', () => undefined);
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      stderr = (stderr + text).slice(-4000);
      this.opts.log.debug({ target: this.opts.url, ffmpeg: text.split(this.opts.key).join('***').slice(0, 1000) }, 'RTMP: ffmpeg says');
      if (this.state === 'connecting' && /Output #0, flv/.test(stderr)) {
        this.state = 'streaming';
        this.connections += 1;
        this.lastError = null;
        this.opts.log.info({ target: this.opts.url, connections: this.connections }, 'RTMP: streaming');
      }
    });
    child.once('error', (err) => this.exited(err.message));
    child.once('close', (code, signal) => this.exited(`ffmpeg exited with ${signal ?? `code ${code}`}${this.problem(stderr)}`));
    this.nextPictureAt = null;
  }

  private feed(into: Writable, data: Buffer): void {
    if (into.writableLength > MAX_QUEUED) {
      this.opts.log.warn({ target: this.opts.url, queued: into.writableLength }, 'RTMP: the server is not taking the stream; reconnecting');
      this.child?.kill('SIGKILL');
      return;
    }
    into.write(data);
  }

  private exited(why: string): void {
    if (this.child === null && this.state === 'waiting') return;
    this.child = null;
    this.stdin = null;
    this.pictures = null;
    if (this.state === 'closed') return;
    this.lastError = why.split(this.opts.key).join('***');
    if (this.now() - this.startedAt > HEALTHY_MS) this.failures = 0;
    this.failures += 1;
    const wait = RESTART(this.failures, new Error(why)) ?? 60_000;
    this.state = 'waiting';
    this.opts.log.warn({ target: this.opts.url, why: this.lastError, retryInMs: wait }, 'RTMP: push ended; reconnecting');
    this.cancelRestart = this.timers.after(wait, () => {
      this.cancelRestart = null;
      this.spawn();
    });
  }

  /** ffmpeg's last lines that say what went wrong, the key hidden. */
  private problem(stderr: string): string {
    const lines = stderr
      .split('\n')
      .filter((l) => /error|failed|refused|denied|invalid|timed out|broken/i.test(l))
      .slice(-2);
    return lines.length ? `: ${lines.join(' | ').split(this.opts.key).join('***')}` : '';
  }
}
