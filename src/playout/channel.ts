import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { BYTES_PER_PCM_FRAME, SAMPLE_RATE, isAudible, pcmBytesFor, silencePcm } from '../audio/pcm.js';
import { GainLimiter } from '../audio/limiter.js';
import { dbToLinear, gainFor } from '../audio/loudness.js';
import { MP3_FRAME_SAMPLES } from '../audio/mp3.js';
import { silentFrame } from '../audio/silence.js';
import type { Playlist, Track } from '../config/playlist.js';
import { QueueFullError, reasonOf } from '../errors.js';
import { PcmDecoder } from '../media/decoder.js';
import type { EncoderSpec } from '../media/encoder.js';
import { exponentialBackoff, type RetryPolicy } from '../retry.js';
import type { MediaResolver } from '../media/resolver.js';
import type { AudioSource, NowPlaying, TrackInfo } from './now-playing.js';
import { DeadAirWatch } from './dead-air.js';
import { EncodingSession } from './encoding.js';
import { Pacer, tickMsFor } from './pacer.js';
import type { Dealt } from './queue.js';
import { Selection } from './selection.js';
import { Upcoming, type DecoderChoice, type Slot } from './upcoming.js';

/**
 * Lifecycle: on-air (from construction: silence until a song is ready)
 *   --close()--> closing --> closed.
 * Encoder or song failures never leave on-air; they are retried by policy.
 */
export type ChannelStatus = 'on-air' | 'closing' | 'closed';

export interface ChannelOptions {
  id: string;
  playlist: Playlist;
  /** The program that encodes the channel's MP3. */
  encoder: EncoderSpec;
  /** Which ffmpeg decodes a song (one short-lived process per song), by codec. */
  decoderFor: DecoderChoice;
  resolver: MediaResolver;
  logger: Logger;
  /** How far ahead of real time audio is sent, ms. */
  leadMs: number;
  now?: () => number;
  random?: () => number;
  /** Delay before re-trying after every song of the list failed in a row. */
  failureBackoff?: RetryPolicy;
  /** Silence (or stand-in frames) longer than this is dead air: reported, not hidden. Default 30 s. */
  deadAirMs?: number;
  /** How long a failed song waits before it is prepared again, by failures in a row. Default SONG_RETRY (selection.ts). */
  songRetry?: RetryPolicy;
}

/** PCM kept queued in the encoder: enough to ride out a slow tick, little enough that skip is quick. */
const FEED_HIGH = pcmBytesFor(0.6);
const FEED_LOW = pcmBytesFor(0.3);
/**
 * Mid-song, a decoder with nothing to give is usually only waiting for the
 * event loop to read its pipe (after a busy moment): pad only when the
 * encoder is about to run dry, so a song is not broken up by silence.
 */
const FEED_UNDERRUN = pcmBytesFor(0.1);
/** Start the next song's decoder at the latest when the one on air has this little left to feed. */
const WARM_UP_LATE_SECONDS = 0.5;
/** A decoder that gives no audio for this long while the channel needs it is killed (the watchdog). */
export const DECODER_STALL_MS = 5000;
const HISTORY = 20;
/** The limiter's ceiling for a playlist: its loudness ceiling, or just under full scale with loudness off. */
function ceilingOf(p: Playlist): number {
  return dbToLinear(p.loudness === false ? -0.1 : p.loudness.ceiling);
}

/** Songs the control API may queue ahead on one channel. */
export const MAX_REQUESTED = 20;
/** Encoder restarts: 100 ms, doubling up to 5 s while it keeps failing (silence is on air meanwhile). */
const ENCODER_RESTART = exponentialBackoff({ baseMs: 100, capMs: 5000, random: () => 1 });
/** An encoder that ran this long was healthy: its failure starts the backoff afresh. */
const ENCODER_HEALTHY_MS = 30_000;

interface Playing {
  slot: Slot;
  /** The channel's clock when its decoder last gave audio (or when it started playing). */
  lastAudioAt: number;
  /** Gain applied to it, dB (loudness normalization plus its own `gain`). */
  gainDb?: number;
  /** PCM of this song has reached the encoder. */
  marked: boolean;
  /** Its first frame went out. */
  announced: boolean;
}

/**
 * One radio channel: a playlist turned into one endless MP3 stream. Songs are
 * decoded to PCM and fed, back to back, into one continuous encoder; when
 * none is ready, zero samples are fed instead. The encoder's frames go out
 * through the pacer at real-time rate as `audio` events.
 */
export class Channel extends EventEmitter implements AudioSource {
  readonly id: string;
  status: ChannelStatus = 'on-air';
  playlist: Playlist;
  nowPlaying: NowPlaying | null = null;
  readonly history: (NowPlaying & { endedAt: string })[] = [];
  songsPlayed = 0;
  songsFailed = 0;
  encoderRestarts = 0;
  /** Seconds of silence fed because no song was ready. */
  silenceSeconds = 0;
  /** MP3 bytes emitted to the outputs. */
  bytesOut = 0;

  private readonly log: Logger;
  private readonly deadAir: DeadAirWatch;
  /** Gain and limiter before the encoder (see GainLimiter). */
  private readonly level: GainLimiter;
  /** Which song of the playlist comes next. */
  private readonly selection: Selection;
  private readonly upcoming: Upcoming;
  private readonly pacer: Pacer<TrackInfo>;
  private encoding!: EncodingSession;
  /** Encoder samples the pacer had sent when the current session began. */
  private encoderBase = 0;
  private encoderStartedAt = 0;
  private encoderFailuresInRow = 0;
  private playing: Playing | null = null;
  private timer: NodeJS.Timeout;
  private readonly now: () => number;
  /** How often the channel feeds its encoder and releases frames; the encoder may hold back this much output. */
  private readonly tickMs: number;

  constructor(private readonly opts: ChannelOptions) {
    super();
    this.id = opts.id;
    this.playlist = opts.playlist;
    this.now = opts.now ?? (() => performance.now());
    this.log = opts.logger.child({ channel: opts.id });
    this.selection = new Selection({ playlist: opts.playlist, log: this.log, now: this.now, random: opts.random, failureBackoff: opts.failureBackoff, songRetry: opts.songRetry });
    this.upcoming = new Upcoming(opts.resolver, opts.decoderFor, this.log, this.now);
    const silent = silentFrame(opts.playlist.bitrate);
    this.pacer = new Pacer<TrackInfo>({
      sampleRate: SAMPLE_RATE,
      leadMs: opts.leadMs,
      now: this.now,
      silentFrame: silent,
      silentFrameSamples: MP3_FRAME_SAMPLES,
      emit: (data) => {
        this.bytesOut += data.length;
        this.emit('audio', data);
      },
      onMarker: (info) => this.announce(info),
    });
    this.tickMs = tickMsFor(opts.leadMs);
    this.deadAir = new DeadAirWatch(opts.deadAirMs ?? 30_000, this.now);
    this.level = new GainLimiter({ ceiling: ceilingOf(opts.playlist) });
    this.startEncoder();
    this.pacer.start();
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.tick();
  }

  /** Seconds of audio sent minus seconds elapsed since start. */
  get pacingError(): number {
    return this.pacer.aheadSeconds;
  }

  /** Seconds of silent frames the clock sent because the encoder had nothing ready in time. */
  get standInSeconds(): number {
    return this.pacer.standInSamples / SAMPLE_RATE;
  }

  get secondsSent(): number {
    return this.pacer.sentSamples / SAMPLE_RATE;
  }

  /** The song prepared to play next, if known. */
  get next(): TrackInfo | Track | null {
    const slot = this.upcoming.first;
    return slot ? (slot.ready?.info ?? slot.track) : null;
  }

  /**
   * Apply an edited playlist without cutting the song on air, and keeping
   * the place: songs already prepared stay prepared if they are still what
   * comes next (same entry, same fields); the others go back to the queue,
   * which resumes at the first of them still listed.
   */
  update(playlist: Playlist): void {
    this.playlist = playlist;
    this.level.setCeiling(ceilingOf(playlist));
    const keep = this.selection.update(playlist, this.upcoming.dealt, this.playing?.slot.entry ?? null);
    this.upcoming.dropDealt(keep);
    this.log.info({ tracks: playlist.tracks.length }, 'playlist updated');
    this.emit('updated', playlist);
  }

  /** End the current song now; the next one follows gaplessly. */
  skip(): void {
    if (this.playing) {
      this.log.info({ song: this.playing.slot.label }, 'skipped by request');
      this.finishPlaying('stopped');
    }
  }

  /**
   * Play `track` next, after earlier requests, before the playlist
   * continues. Each request is prepared (downloaded) at once, so the queue
   * is bounded: a QueueFullError past MAX_REQUESTED. Returns its position.
   */
  enqueue(track: Track): number {
    const waiting = this.upcoming.requestedCount;
    if (waiting >= MAX_REQUESTED) throw new QueueFullError(this.id, MAX_REQUESTED);
    this.upcoming.request(track);
    return waiting + 1;
  }

  async close(): Promise<void> {
    if (this.status !== 'on-air') return;
    this.setStatus('closing');
    clearInterval(this.timer);
    if (this.playing) this.finishPlaying('stopped');
    this.upcoming.clear({ keepRequested: false });
    await this.encoding.close();
    this.setStatus('closed');
  }

  /** Seconds since audible audio last reached the encoder; past the limit the channel is in dead air. */
  get deadAirSeconds(): number {
    return this.deadAir.isDead ? this.deadAir.silentSeconds : 0;
  }

  private tick(): void {
    if (this.status !== 'on-air') return;
    this.pacer.tick();
    this.upcoming.fill(() => this.drawNext());
    this.feed();
    this.watchDeadAir();
  }

  private watchDeadAir(): void {
    const change = this.deadAir.check();
    if (!change) return;
    const song = this.playing?.slot.label ?? null;
    if (change === 'started') {
      const why = !this.encoding.running ? 'the encoder is down' : song ? 'the song on air is silent' : 'no song is ready';
      this.log.warn({ song, silentSeconds: Math.round(this.deadAir.silentSeconds), why }, `dead air: nothing audible for ${Math.round(this.deadAir.silentSeconds)} s (${why})`);
    } else {
      this.log.info({ song }, 'dead air over: audio is back');
    }
    this.emit('dead-air', { dead: change === 'started', song: this.playing?.slot.ready?.info.title ?? null });
  }

  /** Keep the encoder's PCM queue between FEED_LOW and FEED_HIGH, with song audio if any, else silence. */
  private feed(): void {
    const sent = this.pacer.sourceSamplesSent - this.encoderBase;
    let ahead = (this.encoding.fedSamples - sent) * BYTES_PER_PCM_FRAME;
    for (;;) {
      if (!this.playing) this.startNext();
      const playing = this.playing;
      if (playing && ahead < FEED_HIGH) {
        const decoder = this.decoderOf(playing);
        const pcm = decoder.take(FEED_HIGH - ahead);
        if (pcm) {
          playing.lastAudioAt = this.now();
          if (!playing.marked) {
            playing.marked = true;
            // The song's own gain, from its first sample: the level stage delays the stream, so does its mark.
            playing.gainDb = this.songGainDb(playing.slot);
            this.level.setGain(dbToLinear(playing.gainDb));
            this.encoding.markSongStart(playing.slot.ready!.info, this.level.latencyFrames);
          }
          this.write(pcm);
          if (this.encoding.running && isAudible(pcm)) this.deadAir.heard();
          ahead += pcm.length;
          continue;
        }
        if (!decoder.ended && this.now() - playing.lastAudioAt > DECODER_STALL_MS) {
          // A decoder that gives nothing while the air needs audio: hung, or
          // fed a file built to make it spin. What it gave plays; it goes.
          decoder.abandon(`made no progress for ${DECODER_STALL_MS / 1000} s; killed`);
        }
        if (decoder.ended) {
          this.finishPlaying('ended');
          continue;
        }
      }
      if (playing) this.warmUpNext(playing);
      const floor = playing ? FEED_UNDERRUN : FEED_LOW;
      if (ahead < floor) {
        const pad = floor - ahead;
        if (playing) this.log.debug({ song: playing.slot.label, aheadMs: Math.round((ahead / BYTES_PER_PCM_FRAME / SAMPLE_RATE) * 1000) }, 'decoder underrun; padding with silence');
        this.write(silencePcm(pad));
        this.silenceSeconds += pad / (SAMPLE_RATE * BYTES_PER_PCM_FRAME);
        ahead += pad;
      }
      return;
    }
  }

  private decoderOf(playing: Playing): PcmDecoder {
    return this.upcoming.decoderOf(playing.slot.ready!);
  }

  /**
   * Start the next song's decoder once the current one's ffmpeg has exited:
   * its last ~0.6 s of PCM is then in our pipe buffers, with up to 0.6 s more
   * queued in the encoder, which covers a decoder start (~60 ms) with room to
   * spare. So a channel never runs two decoders at once (each ~25 MB), yet the
   * seam has audio at hand. A decoder slow to exit is overtaken near the end.
   */
  private warmUpNext(playing: Playing): void {
    const ready = playing.slot.ready!;
    const decoder = ready.decoder;
    if (!decoder) return;
    const total = ready.info.durationMs !== undefined ? ready.info.durationMs / 1000 : null;
    const fed = decoder.bytesRead / (SAMPLE_RATE * BYTES_PER_PCM_FRAME);
    if (decoder.exited || (total !== null && total - fed < WARM_UP_LATE_SECONDS)) this.upcoming.warmUp();
  }

  /** Everything the encoder gets passes the level stage: gain per song, peaks held under the ceiling. */
  private write(pcm: Buffer): void {
    this.encoding.write(this.level.process(pcm));
  }

  /** dB for a song: to the playlist's target loudness plus the track's own gain; only its gain when loudness is off. */
  private songGainDb(slot: Slot): number {
    const loudness = this.playlist.loudness;
    const own = slot.track.gain ?? 0;
    if (loudness === false) return own;
    return gainFor(slot.ready!.analysis, { targetLufs: loudness.target, ceilingDb: loudness.ceiling }, own);
  }

  /** Make the next prepared upcoming song the one playing; report the failed ones. */
  private startNext(): void {
    for (;;) {
      const slot = this.upcoming.takePlayable();
      if (!slot) return;
      if (slot.error) {
        this.onSongFailed(slot, slot.error);
        // Start preparing its replacement now, not at the next tick: a run of broken songs costs no extra silence.
        this.upcoming.fill(() => this.drawNext());
        continue;
      }
      this.selection.started();
      this.playing = { slot, marked: false, announced: false, lastAudioAt: this.now() };
      return;
    }
  }

  /** `ended`: its decoder ran out; `stopped`: skipped or the channel closes. */
  private finishPlaying(how: 'ended' | 'stopped'): void {
    const playing = this.playing!;
    this.playing = null;
    const ready = playing.slot.ready!;
    if (how === 'stopped') {
      ready.decoder?.destroy();
      ready.release();
      return;
    }
    const decoder = this.decoderOf(playing);
    if (!playing.marked) {
      // Not a single sample came out: the file does not decode.
      decoder.destroy();
      ready.release();
      const reason = decoder.error?.message ?? 'decoder produced no audio';
      this.onSongFailed(playing.slot, new Error(`decode: ${reason}`));
      return;
    }
    if (decoder.error) {
      this.log.warn({ song: playing.slot.label, err: decoder.error.message }, 'decoder failed mid-song; next song follows');
    }
    decoder.destroy();
    ready.release();
  }

  private onSongFailed(slot: Slot, err: unknown): void {
    this.songsFailed += 1;
    this.emit('skipped', { track: slot.track, reason: reasonOf(err) });
    this.selection.failed(slot.track, slot.label, err);
  }

  private drawNext(): Dealt | null {
    return this.selection.draw();
  }

  /** Called by the pacer right before a new song's first frame is sent. */
  private announce(info: TrackInfo): void {
    if (this.playing && this.playing.slot.ready?.info === info) this.playing.announced = true;
    const at = new Date().toISOString();
    if (this.nowPlaying) this.history.unshift({ ...this.nowPlaying, endedAt: at });
    if (this.history.length > HISTORY) this.history.length = HISTORY;
    this.nowPlaying = { ...info, startedAt: at };
    this.selection.played(info.key);
    this.songsPlayed += 1;
    const gainDb = this.playing?.gainDb;
    this.log.info({ song: info.title, artist: info.artist, key: info.key, ...(gainDb === undefined ? {} : { gainDb: Math.round(gainDb * 10) / 10 }) }, 'now playing');
    this.emit('track', this.nowPlaying);
  }

  private startEncoder(): void {
    this.encoderStartedAt = this.now();
    this.encoderBase = this.pacer.sourceSamplesSent;
    this.encoding = new EncodingSession(
      this.opts.encoder,
      this.playlist.bitrate,
      this.log,
      { outputBlockMs: this.tickMs },
      (frame) => this.pacer.push(frame),
      (err) => this.restartEncoder(err),
    );
  }

  private restartEncoder(err: Error): void {
    if (this.status !== 'on-air') return;
    this.encoderRestarts += 1;
    // Back off only while it keeps failing: one crash a week restarts at once.
    if (this.now() - this.encoderStartedAt > ENCODER_HEALTHY_MS) this.encoderFailuresInRow = 0;
    this.encoderFailuresInRow += 1;
    const wait = ENCODER_RESTART(this.encoderFailuresInRow, err) ?? 5000;
    this.log.error({ err: err.message, retryInMs: wait }, 'encoder failed; silence until it is back');
    this.pacer.clearQueue();
    // The song on air continues in the new encoder; re-announce it if its start was lost.
    if (this.playing && !this.playing.announced) this.playing.marked = false;
    setTimeout(() => {
      if (this.status === 'on-air') this.startEncoder();
    }, wait);
  }

  private setStatus(next: ChannelStatus): void {
    if (this.status === next) return;
    this.status = next;
    this.emit('status', next);
  }
}
