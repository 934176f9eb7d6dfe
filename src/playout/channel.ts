import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { SAMPLE_RATE } from '../audio/pcm.js';
import { dbToLinear } from '../audio/loudness.js';
import { MP3_FRAME_SAMPLES } from '../audio/mp3.js';
import { silentFrame } from '../audio/silence.js';
import type { Playlist, Track } from '../config/playlist.js';
import { reasonOf } from '../kernel/errors.js';
import { blockChange, type AudioSource, type NowPlaying, type TrackInfo } from './now-playing.js';
import { AirWatch } from './air-watch.js';
import { DeadAirWatch } from './dead-air.js';
import type { MixState } from './feed-levels.js';
import { MixFeed } from './mix-feed.js';
import { EncodeStage } from './encode-stage.js';
import { Pacer, ticksFor } from './pacer.js';
import { REAL_TIMERS, type Timers } from '../kernel/lifecycle.js';
import { Crossfade } from './operators/crossfade.js';
import { Interruptions } from './interruptions.js';
import { Normalize } from './operators/normalize.js';
import { LiveSwitch, type LiveShow } from './sources/live.js';
import { LiveShows, type LiveShowRecord } from './live-shows.js';
import { OnAir, type HistoryEntry } from './on-air.js';
import type { Rendition } from './rendition.js';
import type { ChannelEvents, ChannelOptions, ChannelSource, ChannelStatus, ProgrammeNow } from './channel-contract.js';

export type { ChannelEvents, ChannelOptions, ChannelSource, ChannelStatus, ProgrammeNow };

export type { LiveShowRecord };
const HISTORY = 20;
export { HARD_START_FADE_SECONDS, TAKEOVER_FADE_SECONDS } from './interruptions.js';

/** The limiter's ceiling for a playlist: its loudness ceiling, or just under full scale with loudness off. */
function ceilingOf(p: Playlist): number {
  return dbToLinear(p.loudness === false ? -0.1 : p.loudness.ceiling);
}

/**
 * One radio channel: a playlist turned into one endless MP3 stream. The
 * channel keeps the clock, the encoder and the outputs' feed; what plays is
 * a small graph: songs from its source, normalized, crossfaded (or back to
 * back), then limited under the ceiling and encoded by one continuous
 * encoder. When no song is ready, zero samples are fed instead. Frames go
 * out through the pacer at real-time rate as `audio` events.
 *
 * Events: `audio` (Buffer), `track` (NowPlaying), `skipped` ({ track, reason }),
 * `dead-air` ({ dead, song }), `updated` (Playlist), `status` (ChannelStatus),
 * `live-start` (LiveShowRecord) as the DJ's first audio goes out, `live-end`
 * (LiveShowRecord) as the playlist's first song after it does, `block`
 * ({ block, next }) as the first song of another schedule block goes out,
 * `idle` when nothing has been in the mix for a while (now-playing cleared).
 */
export class Channel extends EventEmitter<ChannelEvents> implements AudioSource {
  readonly id: string;
  status: ChannelStatus = 'idle';
  playlist: Playlist;

  songsPlayed = 0;
  songsFailed = 0;
  /** MP3 bytes emitted to the outputs. */
  bytesOut = 0;

  private readonly log: Logger;
  private readonly deadAir: DeadAirWatch;
  private readonly watch: AirWatch;
  /** The mix, limited, into the encoders. */
  private readonly mix: MixFeed;
  private readonly source: ChannelSource;
  private readonly mixer: Crossfade;
  private readonly live: LiveSwitch;
  /** What listeners have seen: now playing, the history, titles in step with the ears. */
  private readonly onAir = new OnAir(HISTORY);
  private readonly liveShows = new LiveShows(HISTORY, (event, show) => this.emit(event, show));
  /** Skips, DJs taking over, hard starts. */
  private readonly interruptions: Interruptions;
  private readonly pacer: Pacer<TrackInfo>;
  /** The channel's encoder and its renditions', fed from the one mix. */
  private readonly encoders: EncodeStage;
  private readonly timers: Timers;
  private stopTimer: (() => void) | null = null;
  /** The period the clock runs at now (see retime). */
  private tickPeriod: number | null = null;
  private readonly now: () => number;
  /** How often the channel feeds its encoder and releases frames: short while a DJ is near, longer otherwise (see ticksFor). */
  private readonly ticks: { live: number; calm: number };

  constructor(opts: ChannelOptions) {
    super();
    this.id = opts.id;
    this.playlist = opts.playlist;
    this.now = opts.now ?? (() => performance.now());
    this.timers = opts.timers ?? REAL_TIMERS;
    this.log = opts.logger.child({ channel: opts.id });
    this.source = opts.source;
    this.source.on('skipped', (e: { track: Track; reason: unknown }) => {
      this.songsFailed += 1;
      this.emit('skipped', { track: e.track, reason: reasonOf(e.reason) });
    });
    this.source.on('cut', (block: string) => this.interruptions.hardStart(block));
    this.live = new LiveSwitch(this.source, (song, end) => this.interruptions.liveLeft(song, end));
    this.mixer = new Crossfade(
      new Normalize(this.live, { loudness: () => this.playlist.loudness, idle: () => this.mixer.onAir === null, now: this.now, log: this.log }),
      {
        seconds: () => this.playlist.crossfade,
        log: this.log,
        now: this.now,
        stallMs: opts.stallMs,
        grid: opts.frameGrid,
      },
    );
    this.pacer = new Pacer<TrackInfo>({
      sampleRate: SAMPLE_RATE,
      leadMs: opts.leadMs,
      now: this.now,
      silentFrame: silentFrame(opts.playlist.bitrate),
      silentFrameSamples: MP3_FRAME_SAMPLES,
      emit: (data, startSample) => {
        this.bytesOut += data.length;
        this.emit('audio', data, startSample / SAMPLE_RATE);
      },
      onMarker: (info) => this.announce(info),
    });
    this.ticks = ticksFor(opts.leadMs);
    this.encoders = new EncodeStage({
      channelId: opts.id,
      main: {
        start: opts.startEncoding,
        sent: () => this.pacer.sourceSamplesSent,
        onFrame: (frame) => this.pacer.push(frame),
        onFailed: () => this.pacer.clearQueue(),
        // The song whose title the dead run never sent: announced with the next audio.
        onRestarted: () => {
          const unsent = this.onAir.unsent;
          if (unsent) this.encoders.main.markSongStart(unsent, 0);
        },
      },
      renditions: opts.playlist.renditions,
      startRendition: opts.startRendition,
      leadMs: opts.leadMs,
      outputBlockMs: this.ticks.live,
      log: this.log,
      now: this.now,
      timers: this.timers,
    });
    this.deadAir = new DeadAirWatch(opts.deadAirMs ?? 30_000, this.now);
    this.watch = new AirWatch({
      mixer: this.mixer,
      live: this.live,
      onAir: this.onAir,
      liveShows: this.liveShows,
      deadAir: this.deadAir,
      encoderRunning: () => this.encoders.main.running,
      now: this.now,
      log: this.log,
      onIdle: () => this.emit('idle'),
      onDeadAir: (change) => this.emit('dead-air', change),
    });
    this.mix = new MixFeed({
      mixer: this.mixer,
      encoders: this.encoders,
      released: () => this.pacer.sourceSamplesSent,
      onAir: this.onAir,
      deadAir: this.deadAir,
      ceiling: ceilingOf(opts.playlist),
      log: this.log,
    });
    this.interruptions = new Interruptions({
      mixer: this.mixer,
      live: this.live,
      onAir: this.onAir,
      liveShows: this.liveShows,
      encoders: this.encoders,
      mix: this.mix,
      log: this.log,
      onAirNow: () => this.status === 'on-air',
      tick: () => this.tick(),
      retime: () => this.retime(),
    });
  }

  /** Go on air: the encoder starts, the clock runs. */
  start(): void {
    if (this.status !== 'idle') return;
    this.setStatus('on-air');
    this.encoders.start();
    this.pacer.start();
    this.deadAir.heard();
    this.retime();
    this.tick();
  }

  /**
   * Run the clock at the period the channel needs now: live ticks while a
   * DJ is coming or on air, calm ones otherwise. Called after every tick and
   * whenever a DJ arrives, so a takeover never waits out a calm tick.
   */
  private retime(): void {
    const want = this.live.song !== null || this.interruptions.djComingSoon ? this.ticks.live : this.ticks.calm;
    if (want === this.tickPeriod) return;
    this.stopTimer?.();
    this.stopTimer = this.timers.every(want, () => this.tick());
    this.tickPeriod = want;
  }

  /** More formats of the stream, fed the same PCM and marks (see Rendition). */
  get renditions(): readonly Rendition[] {
    return this.encoders.renditions;
  }

  /** Seconds of audio sent minus seconds elapsed since start. */
  get pacingError(): number {
    return this.pacer.aheadSeconds;
  }

  /** Seconds of silent frames the clock sent because the encoder had nothing ready in time. */
  get standInSeconds(): number {
    return this.pacer.standInSamples / SAMPLE_RATE;
  }

  /** Seconds of silence fed because no song was ready. */
  get silenceSeconds(): number {
    return this.mix.silenceSeconds;
  }

  get secondsSent(): number {
    return this.pacer.sentSamples / SAMPLE_RATE;
  }

  /** MP3 frames sent from songs' last plays, and encoded (see encode/splicing-encoding.ts). */
  get mp3Frames(): { reused: number; encoded: number } {
    return this.encoders.main.frames;
  }

  get encoderRestarts(): number {
    return this.encoders.main.restarts;
  }

  /** The song prepared to play next, if known. */
  get next(): TrackInfo | Track | null {
    return this.source.next;
  }

  /** Apply an edited playlist without cutting the song on air, keeping the place (see the source's `update`). */
  update(playlist: Playlist): void {
    this.playlist = playlist;
    this.mix.setCeiling(ceilingOf(playlist));
    this.source.update(playlist);
    this.log.info({ tracks: playlist.tracks.length }, 'playlist updated');
    this.emit('updated', playlist);
  }

  /** End the song on air with a quick fade; the next one follows. */
  skip(): void {
    this.interruptions.skip();
  }

  /** The title listeners have up now. */
  get nowPlaying(): NowPlaying | null {
    return this.onAir.nowPlaying;
  }

  /** What played, latest first. */
  get history(): readonly HistoryEntry[] {
    return this.onAir.history;
  }

  /** Live shows, latest first (the one on air has no endedAt). */
  get shows(): readonly LiveShowRecord[] {
    return this.liveShows.list;
  }

  /** The live show on air, if any. */
  get liveShow(): LiveShowRecord | null {
    return this.liveShows.current;
  }

  /** A DJ takes over, the song on air fading out (see Interruptions.goLive). False when the channel is not on air. */
  goLive(show: LiveShow): boolean {
    return this.interruptions.goLive(show);
  }

  /** A DJ has connected and will go on air (true), or will not after all (false): the channel queues less ahead meanwhile. */
  djComing(coming: boolean): void {
    this.interruptions.djComing(coming);
  }

  /** The live show's title changed: shown where the change reaches the stream. Returns false if no show is on. */
  retitle(title: string): boolean {
    return this.interruptions.retitle(title);
  }

  /** The schedule block on air (null: the channel's own list), and what comes next. */
  get programme(): ProgrammeNow {
    let now = this.source.onNow ?? { block: null, next: null };
    const np = this.nowPlaying;
    const block = np && np.source !== 'live' ? (np.block ?? null) : now.block;
    // A hard start's first song goes out just ahead of its minute: the next change is then the block itself. What follows it is what comes next.
    if (now.next && now.next.block === block && block !== now.block && this.source.onAt) now = this.source.onAt(Date.parse(now.next.at));
    return { block, next: now.next };
  }

  /** The songs listeners may ask for (see ChannelSource.catalog). */
  catalog(): readonly Track[] {
    return this.source.catalog?.() ?? [];
  }

  /** Play `track` next, after earlier requests, before the playlist continues. Returns its position. `listener`: a listener's request. */
  enqueue(track: Track, listener = false): number {
    return this.source.request(track, this.id, listener);
  }

  private closing: Promise<void> | undefined;

  /** Stop after the encoder has encoded what it was given (drains). A second call returns the first's promise. */
  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    if (this.status === 'closing' || this.status === 'closed') return;
    this.setStatus('closing');
    this.stopTimer?.();
    this.tickPeriod = null;
    this.mixer.stop();
    this.liveShows.close();
    this.source.close();
    await this.encoders.close();
    this.setStatus('closed');
  }

  /** Stop at once: songs off the air, the encoder killed, nothing drained. Idempotent. */
  destroy(): void {
    if (this.status === 'closed') return;
    this.stopTimer?.();
    this.tickPeriod = null;
    this.mixer.stop();
    this.liveShows.close();
    this.source.close();
    this.encoders.destroy();
    this.setStatus('closed');
  }

  /** Seconds since audible audio last reached the encoder; past the limit the channel is in dead air. */
  get deadAirSeconds(): number {
    return this.deadAir.isDead ? this.deadAir.silentSeconds : 0;
  }

  private tick(): void {
    if (this.status !== 'on-air') return;
    this.pacer.tick();
    this.encoders.tick();
    // Through the graph, not to the bottom source: a side door here skipped the live switch's warm-up (issue 25).
    this.mixer.prepare();
    this.mix.feed(() => this.mixState());
    this.watch.check();
    this.retime();
  }

  private mixState(): MixState {
    return {
      live: this.live.song !== null,
      djComing: this.interruptions.djComingSoon,
      leading: this.mixer.leading,
      onAir: this.mixer.onAir !== null,
    };
  }

  /** Called by the pacer right before a new song's first frame is sent. */
  private announce(info: TrackInfo): void {
    const at = new Date().toISOString();
    // The pacer calls this before the song's first frame is counted: sentSamples is where that frame starts.
    const streamSecond = this.pacer.sentSamples / SAMPLE_RATE;
    const arrived = this.onAir.arrive(info, at, streamSecond);
    if (!arrived) return;
    const wasLive = arrived.before?.source === 'live';
    if (info.source === 'live' && !wasLive) this.liveShows.open(info, at, streamSecond);
    else if (info.source !== 'live' && wasLive) this.liveShows.close(at, streamSecond);
    const change = blockChange(arrived.before, info);
    if (change) {
      this.log.info({ block: change.block ?? 'main' }, change.block ? `on air: block "${change.block}"` : "on air: the channel's own list");
      this.emit('block', this.programme);
    }
    this.source.played(info.key);
    this.songsPlayed += 1;
    const song = this.mixer.playing.find((s) => s.info === info);
    this.log.info({ song: info.title, artist: info.artist, key: info.key, ...(song ? { gainDb: Math.round(song.gainDb * 10) / 10 } : {}) }, 'now playing');
    this.emit('track', this.onAir.nowPlaying!);
  }

  private setStatus(next: ChannelStatus): void {
    if (this.status === next) return;
    this.status = next;
    this.emit('status', next);
  }
}
