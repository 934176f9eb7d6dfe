import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { BYTES_PER_SECOND } from '../audio/pcm.js';
import type { StreamInput } from '../ffmpeg/input.js';
import type { Clock } from '../kernel/lifecycle.js';
import type { PcmFeed } from '../playout/sources/source.js';
import type { Channel } from '../playout/channel.js';
import { refusal, type DjAccount } from './accounts.js';
import { LiveInput, type LiveInputOptions } from './live-input.js';
import { ChunkedDecoder } from './chunked.js';

/** PCM a show has decoded before it goes on air: enough to ride out a client's uneven sending, little enough to be heard at once. */
const START_BUFFER_BYTES = Math.round(BYTES_PER_SECOND * 0.05);
/** Decoded audio a show may have waiting, beyond which a client sending faster than real time has its oldest dropped. */
const MAX_AHEAD_BYTES = BYTES_PER_SECOND * 3;
/** How often a show's timeouts are looked at, and (BUFFERING_WATCH_MS) its first audio while it waits to go on air. */
const WATCH_MS = 50;
const BUFFERING_WATCH_MS = 10;

/**
 * Lifecycle: made (its input opened) --start()--> buffering (its first
 * audio decoding; status already reads buffering) --> on-air
 * (the channel took it over) --> ended; buffering --> ended when it never
 * gave audio. `end(reason)` is idempotent.
 */
export type ShowStatus = 'buffering' | 'on-air' | 'ended';

export interface ShowEvents {
  status: [ShowStatus];
}

/** What a show needs of its input: a LiveInput (a decoder behind the DJ's bytes), or a test's stand-in. */
export interface ShowInput extends PcmFeed {
  readonly bytesIn: number;
  readonly lastBytesAt: number;
  readonly lastTakenAt: number;
  readonly lastAudibleAt: number;
  readonly autoGain: { readonly lufs: number | null; readonly db: number } | null;
  readonly done: Promise<void>;
  write(chunk: Buffer): boolean;
  onDrain(fn: () => void): void;
  end(): void;
  keepUp(maxBytes: number): number;
  onAir(): void;
}

export interface ShowOptions {
  dj: DjAccount;
  channel: Channel;
  socket: Socket;
  format: StreamInput['format'];
  /** Audio that came with the request head. */
  rest: Buffer;
  /** The body is in HTTP/1.1 chunks: decoded before the audio. */
  chunked: boolean;
  /** The client's ice-name, cleaned. */
  name: string | undefined;
  decoderPath: string;
  sourceTimeoutMs: number;
  /** Its timeouts' timers and time; the wall clock for the DJ's hours. */
  clock: Clock;
  /** The input the DJ's bytes go to. Default: a LiveInput. */
  openInput?: (o: LiveInputOptions) => ShowInput;
  log: Logger;
}

/** How often a show on air checks that its DJ is still within their hours. */
const HOURS_CHECK_MS = 5000;

/**
 * One DJ's connection to a channel, from the accepted request to the end
 * of the show: the socket's bytes into a LiveInput, the show put on the
 * channel once its first audio is decoded, and the reasons it ends: the DJ
 * left, the source timeout, dead air (silence or nothing decodable for the
 * channel's `live.deadAirSeconds`), an undecodable input, the channel
 * closing, another DJ taking over.
 */
export class Show extends EventEmitter<ShowEvents> {
  status: ShowStatus = 'buffering';
  readonly dj: DjAccount;
  readonly name: string | undefined;
  readonly log: Logger;
  /** The latest title the DJ's client sent, kept for the moment the show goes on air. */
  private title: string | undefined;
  private readonly input: ShowInput;
  private readonly startedAt: number;
  /** Stops the show's watch; a no-op until start(). */
  private stopWatch: () => void = () => undefined;
  private started = false;
  private dropped = 0;
  private hoursCheckedAt: number;
  private readonly onChannelStatus = (s: string): void => {
    if (s !== 'on-air') this.end('the channel closed');
  };

  constructor(private readonly o: ShowOptions) {
    super();
    this.dj = o.dj;
    this.name = o.name;
    this.log = o.log;
    const now = (): number => o.clock.now();
    this.startedAt = now();
    this.hoursCheckedAt = this.startedAt;
    const loudness = o.channel.playlist.loudness;
    const open = o.openInput ?? ((io: LiveInputOptions) => new LiveInput(io));
    this.input = open({ decoderPath: o.decoderPath, format: o.format, now, loudnessTarget: loudness === false ? undefined : loudness.target });
  }

  /**
   * Start taking the DJ's audio (the bytes that came with the head first)
   * and watching the show. Called once whoever keeps the show listens to its
   * events: those very bytes may end it (a malformed chunked body).
   */
  start(): void {
    if (this.started) return;
    this.started = true;
    const { o, input } = this;
    const now = (): number => o.clock.now();
    const { socket } = o;
    const unchunk = o.chunked ? new ChunkedDecoder() : null;
    const feed = (bytes: Buffer): void => {
      let chunk = bytes;
      if (unchunk) {
        chunk = unchunk.push(bytes);
        if (unchunk.error) return this.end(`the chunked body is malformed (${unchunk.error})`, 'warn');
      }
      if (chunk.length > 0) {
        if (input.bytesIn === 0) o.log.debug({ bytes: chunk.length, afterMs: Math.round(now() - this.startedAt) }, 'live: first audio bytes');
        if (!input.write(chunk)) socket.pause();
      }
      // The last chunk: the client is done sending, as if it had disconnected.
      if (unchunk?.done) this.end('the DJ disconnected');
    };
    input.onDrain(() => socket.resume());
    o.channel.on('status', this.onChannelStatus);
    this.stopWatch = o.clock.every(BUFFERING_WATCH_MS, () => this.check());
    socket.on('data', feed);
    socket.on('end', () => this.end('the DJ disconnected'));
    socket.on('close', () => this.end('the DJ disconnected'));
    void input.done.then(() => {
      if (input.error) this.end(`the input could not be decoded (${input.error.message.slice(0, 200)})`, 'warn');
    });
    if (o.rest.length > 0) feed(o.rest);
    if (this.status !== 'ended') socket.resume();
  }

  /** The DJ's client sent a title: on air now, or when the show goes on. */
  retitle(title: string): void {
    this.title = title;
    if (this.status === 'on-air') this.o.channel.retitle(title);
  }

  /** The show is over, for `reason`. Decoded audio not yet played still plays if the DJ simply left; otherwise it stops here. */
  end(reason: string, level: 'info' | 'warn' = 'info'): void {
    if (this.status === 'ended') return;
    const wasOnAir = this.status === 'on-air';
    this.stopWatch();
    this.o.channel.off('status', this.onChannelStatus);
    const { input } = this;
    this.log[level](
      {
        reason,
        seconds: Math.round((this.o.clock.now() - this.startedAt) / 100) / 10,
        bytesIn: input.bytesIn,
        quietMs: Math.round(this.o.clock.now() - input.lastBytesAt),
        droppedSeconds: Math.round((this.dropped / BYTES_PER_SECOND) * 10) / 10,
        ...(input.autoGain ? { inputLufs: round1(input.autoGain.lufs), autoGainDb: round1(input.autoGain.db) } : {}),
      },
      `live: ${this.dj.user} off: ${reason}`,
    );
    if (!wasOnAir) this.o.channel.djComing(false);
    if (wasOnAir && reason === 'the DJ disconnected') {
      const leftAt = this.o.clock.now();
      const bufferedMs = Math.round((input.lookahead(Infinity) / BYTES_PER_SECOND) * 1000);
      input.end();
      // What the client had sent ahead still decodes; it too is kept within 3 s of the end.
      const stopDrain = this.o.clock.every(WATCH_MS, () => {
        input.keepUp(MAX_AHEAD_BYTES);
        if (!input.complete && !input.ended) return;
        stopDrain();
        this.log.debug({ bufferedMs, flushMs: Math.round(this.o.clock.now() - leftAt) }, "live: the decoder gave the show's last audio");
      });
    } else {
      input.abandon(reason);
    }
    this.o.socket.destroy();
    this.setStatus('ended');
  }

  private check(): void {
    const { input, o } = this;
    const t = o.clock.now();
    const deadAir = o.channel.playlist.live.deadAirSeconds;
    const lost = input.keepUp(MAX_AHEAD_BYTES);
    if (lost > 0 && this.dropped === 0) this.log.warn("live: the DJ's client sends faster than real time; audio more than 3 s behind the live edge is dropped");
    this.dropped += lost;
    if (t - input.lastBytesAt > o.sourceTimeoutMs) return this.end(`source timeout: nothing received for ${o.sourceTimeoutMs / 1000} s`, 'warn');
    if (this.status === 'buffering') {
      if (input.lookahead(START_BUFFER_BYTES) >= START_BUFFER_BYTES || (input.complete && input.lookahead(1) > 0)) {
        this.log.debug({ afterMs: Math.round(t - this.startedAt), bytesIn: input.bytesIn }, 'live: first audio decoded; taking over');
        const auto = input.autoGain;
        if (
          !o.channel.goLive({
            dj: this.dj.user,
            name: this.name,
            title: this.title,
            feed: input,
            gainDb: o.channel.playlist.live.gain,
            ...(auto ? { autoGainDb: () => auto.db } : {}),
          })
        )
          return this.end('the channel closed');
        input.onAir();
        this.setStatus('on-air');
        this.stopWatch();
        this.stopWatch = o.clock.every(WATCH_MS, () => this.check());
      } else if (t - this.startedAt > deadAir * 1000) {
        this.end(`sent no decodable audio in ${deadAir} s`, 'warn');
      }
      return;
    }
    if (t - input.lastTakenAt > deadAir * 1000) return this.end(`dead air: no audio for ${deadAir} s`, 'warn');
    // An account's hours hold for the whole show, not only at sign-in: at the window's end the playlist takes the air back.
    if (t - this.hoursCheckedAt >= HOURS_CHECK_MS) {
      this.hoursCheckedAt = t;
      const why = refusal(this.dj, o.channel.id, o.clock.date());
      if (why) return this.end(why);
    }
    if (t - input.lastAudibleAt > deadAir * 1000) return this.end(`dead air: silent for ${deadAir} s`, 'warn');
  }

  private setStatus(next: ShowStatus): void {
    if (this.status === next) return;
    this.status = next;
    this.emit('status', next);
  }
}

function round1(x: number | null): number | null {
  return x === null || !Number.isFinite(x) ? null : Math.round(x * 10) / 10;
}
