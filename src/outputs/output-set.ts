import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { IcecastTarget } from '../config/env.js';
import type { AudioSource, NowPlaying } from '../playout/now-playing.js';
import type { Rendition, RenditionSpec } from '../playout/rendition.js';
import type { Playlist } from '../config/playlist.js';
import { CHANNELS, SAMPLE_RATE } from '../audio/pcm.js';
import type { RetryPolicy } from '../kernel/retry.js';
import type { Channel } from '../playout/channel.js';
import type { Station } from '../playout/station.js';
import { IcecastOutput } from './icecast/output.js';
import type { SourceStatus } from './icecast/source-client.js';
import type { SourceMethod, StreamInfo } from './icecast/protocol.js';
import { ListenerHub } from './listeners.js';
import { HlsOutput } from './hls/hls-output.js';
import { RtmpPush } from './rtmp/rtmp-push.js';

export interface OutputSetOptions {
  icecast: readonly IcecastTarget[];
  method: SourceMethod;
  admin?: { user: string; password: string } | undefined;
  retry: RetryPolicy;
  builtin: boolean;
  logger: Logger;
  userAgent: string;
  /** HLS_DIR: HLS playlists and segments are also written here. */
  hlsDir?: string | undefined;
  /** For RTMP pushes: ffmpeg, the song's picture as a JPEG file, and the environment the stream keys are read from. */
  rtmp?: { ffmpeg: string; picture: (np: NowPlaying | null, p: Playlist) => Promise<string | null>; env: Record<string, string | undefined> } | undefined;
  /** A song's picture on a channel, as an absolute URL (ICY StreamUrl). */
  artUrl?: ((np: NowPlaying, p: Playlist) => string | undefined) | undefined;
}

export interface ChannelOutputs {
  hub: ListenerHub | null;
  icecast: IcecastOutput[];
  /** HLS from the AAC renditions, when the playlist asks for it. */
  hls: HlsOutput | null;
  /** Pushes to RTMP servers (the playlist's `rtmp`). */
  rtmp: RtmpPush[];
  /** Each rendition's own outputs, on its own mount. */
  renditions: RenditionOutputs[];
}

export interface RenditionOutputs {
  rendition: Rendition;
  hub: ListenerHub | null;
  icecast: IcecastOutput[];
}

/** Seconds of recent audio a new listener of the built-in output is sent at once, so playback starts without waiting. */
const BURST_SECONDS = 4;

const CONTENT_TYPES = { mp3: 'audio/mpeg', aac: 'audio/aac', opus: 'audio/ogg' } as const;

/** A rendition's details: the channel's, with its own format. */
export function renditionInfo(p: Playlist, r: RenditionSpec): StreamInfo {
  return { ...streamInfo(p), bitrateKbps: r.bitrate, contentType: CONTENT_TYPES[r.codec], sampleRate: r.codec === 'opus' ? 48000 : SAMPLE_RATE };
}

/** What listeners and directories are told about a channel's stream. */
export function streamInfo(p: Playlist): StreamInfo {
  return {
    name: p.name,
    description: p.description,
    genre: p.genre,
    url: p.url,
    public: p.public,
    bitrateKbps: p.bitrate,
    sampleRate: SAMPLE_RATE,
    channels: CHANNELS,
  };
}

/**
 * Every channel's outputs: one Icecast source per configured server and the
 * built-in listener endpoint. Each output runs on its own; one failing never
 * stalls another or the channel.
 *
 * Events: `output-status` (channel, IcecastOutput, connected: boolean);
 * `output-spare` (channel, IcecastOutput): the mount is another source's, the output stands by.
 */
export class OutputSet extends EventEmitter {
  private readonly byChannel = new Map<Channel, ChannelOutputs>();

  constructor(
    station: Station,
    private readonly opts: OutputSetOptions,
  ) {
    super();
    station.on('channel-added', (c: Channel) => this.add(c));
    station.on('channel-removed', (c: Channel) => void this.remove(c));
    for (const c of station.channels) this.add(c);
  }

  of(channel: Channel): ChannelOutputs | undefined {
    return this.byChannel.get(channel);
  }

  /** The built-in output serving `mount`: a channel's or a rendition's. */
  hubAt(mount: string): ListenerHub | undefined {
    for (const [channel, o] of this.byChannel) {
      if (channel.playlist.mount === mount) return o.hub ?? undefined;
      const r = o.renditions.find((x) => x.rendition.spec.mount === mount);
      if (r) return r.hub ?? undefined;
    }
    return undefined;
  }

  private closing: Promise<void> | undefined;

  /** A second call returns the first's promise. */
  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    await Promise.all([...this.byChannel.keys()].map((c) => this.remove(c)));
  }

  /**
   * Resolves once every Icecast output has finished its current connection
   * attempt (on air, or failed and waiting to retry), or after `capMs`.
   */
  attemptsSettled(capMs: number): Promise<void> {
    const pending = [...this.byChannel.values()]
      .flatMap((o) => [...o.icecast, ...o.renditions.flatMap((r) => r.icecast)].map((i) => i.client))
      .filter((c) => c.state === 'connecting');
    if (pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      let left = pending.length;
      const done = (): void => {
        clearTimeout(timer);
        for (const c of pending) c.off('status', onStatus);
        resolve();
      };
      const onStatus = (_next: SourceStatus, prev: SourceStatus): void => {
        if (prev.state === 'connecting' && --left === 0) done();
      };
      const timer = setTimeout(done, capMs);
      for (const c of pending) c.on('status', onStatus);
    });
  }

  private add(channel: Channel): void {
    if (this.byChannel.has(channel)) return;
    const main = this.outputsFor(channel, channel, channel.playlist.mount, streamInfo(channel.playlist));
    const renditions = channel.renditions.map((r) => ({ rendition: r, ...this.outputsFor(channel, r, r.spec.mount, renditionInfo(channel.playlist, r.spec)) }));
    const hls = channel.playlist.hls
      ? new HlsOutput(
          renditions.map((r) => r.rendition).filter((r) => r.spec.codec === 'aac'),
          {
            channelId: channel.id,
            dir: this.opts.hlsDir,
            logger: this.opts.logger,
            artUrl: this.opts.artUrl && ((np) => this.opts.artUrl!(np, channel.playlist)),
          },
        )
      : null;
    const rtmp = this.rtmpPushes(channel);
    this.byChannel.set(channel, { ...main, renditions, hls, rtmp });
    for (const r of rtmp) r.start();
    // An edited name, description, genre or url: new listeners get it at once, Icecast at the next seam.
    channel.on('updated', (p: Playlist) => {
      const next = streamInfo(p);
      main.hub?.setInfo(next);
      for (const o of main.icecast) o.updateInfo(next);
      for (const r of renditions) {
        const info = renditionInfo(p, r.rendition.spec);
        r.hub?.setInfo(info);
        for (const o of r.icecast) o.updateInfo(info);
      }
    });
    for (const o of [...main.icecast, ...renditions.flatMap((r) => r.icecast)]) {
      o.client.on('connected', () => this.emit('output-status', channel, o, true));
      o.client.on('disconnected', () => this.emit('output-status', channel, o, false));
      o.client.on('status', (next, prev) => {
        if (next.state === 'spare' && prev.state !== 'spare') this.emit('output-spare', channel, o);
      });
      o.start();
    }
  }

  /**
   * The playlist's RTMP targets, each with its key from the environment (a
   * target without one is left out, and said so). The audio is an AAC
   * rendition's when there is one (copied as is), else the channel's MP3
   * (encoded to AAC by the push's ffmpeg).
   */
  private rtmpPushes(channel: Channel): RtmpPush[] {
    const rtmp = this.opts.rtmp;
    const log = this.opts.logger.child({ channel: channel.id, output: 'rtmp' });
    if (!rtmp) return [];
    const aac = channel.renditions.find((r) => r.spec.codec === 'aac');
    return channel.playlist.rtmp.flatMap((t) => {
      const key = rtmp.env[t.keyEnv];
      if (!key) {
        log.error({ target: t.url, keyEnv: t.keyEnv }, `RTMP target left out: ${t.keyEnv} (its stream key) is not set in the environment`);
        return [];
      }
      return [
        new RtmpPush(aac ?? channel, {
          url: t.url,
          key,
          ffmpeg: rtmp.ffmpeg,
          audio: aac ? 'aac' : 'mp3',
          picture: (np) => rtmp.picture(np, channel.playlist),
          log,
        }),
      ];
    });
  }

  /** One stream's outputs: a source per Icecast server, and the built-in mount. */
  private outputsFor(channel: Channel, source: AudioSource, mount: string, info: StreamInfo): { hub: ListenerHub | null; icecast: IcecastOutput[] } {
    const artUrl = this.opts.artUrl && ((np: NowPlaying) => this.opts.artUrl!(np, channel.playlist));
    const icecast = this.opts.icecast.map(
      (target) =>
        new IcecastOutput(source, {
          target,
          mount,
          method: this.opts.method,
          info,
          admin: this.opts.admin,
          retry: this.opts.retry,
          logger: this.opts.logger.child({ channel: channel.id }),
          userAgent: this.opts.userAgent,
          artUrl,
        }),
    );
    // The burst a new listener starts with is the same length in every format (64 KB at 128 kbit/s).
    const burstBytes = Math.round((info.bitrateKbps * 1000 * BURST_SECONDS) / 8);
    const hub = this.opts.builtin ? new ListenerHub(source, { info, logger: this.opts.logger, artUrl, burstBytes }) : null;
    return { hub, icecast };
  }

  private async remove(channel: Channel): Promise<void> {
    const outputs = this.byChannel.get(channel);
    if (!outputs) return;
    this.byChannel.delete(channel);
    const all = [outputs, ...outputs.renditions];
    await Promise.all([
      ...all.flatMap((o) => [...(o.hub ? [o.hub.close()] : []), ...o.icecast.map((i) => i.close())]),
      ...(outputs.hls ? [outputs.hls.close()] : []),
      ...outputs.rtmp.map((r) => r.close()),
    ]);
  }
}
