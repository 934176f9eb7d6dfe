import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { NowPlaying } from '../../playout/now-playing.js';
import type { Rendition } from '../../playout/rendition.js';
import { masterPlaylist, mediaPlaylist } from './playlists.js';
import { HlsSegmenter, type HlsSegment } from './segmenter.js';

/** Seconds a segment aims at: Apple's recommendation for live audio is 6, players start after ~3 segments; 4 s starts them sooner. */
export const HLS_TARGET_SECONDS = 4;
/** Segments a media playlist names (24 s). */
const WINDOW = 6;
/** Segments kept after they leave the playlist, for clients that fetched it just before (RFC 8216 6.2.2). */
const KEEP = WINDOW + 4;
/** A client that fetched no segment for this long has left. */
const LISTENER_IDLE_MS = 3 * HLS_TARGET_SECONDS * 1000;

export interface HlsOutputOptions {
  channelId: string;
  /** Also write the playlists and segments here (for a web server or CDN in front): `<dir>/<channel>/...`. */
  dir?: string | undefined;
  logger: Logger;
  artUrl?: ((np: NowPlaying) => string | undefined) | undefined;
  now?: () => number;
}

interface Variant {
  /** Its folder name under the channel's: aac_64 */
  key: string;
  rendition: Rendition;
  segmenter: HlsSegmenter;
  /** Folder writes, one after another. */
  writing: Promise<void>;
}

/**
 * A channel's HLS: each AAC rendition segmented as it goes out, the
 * master and media playlists made from them on request, served by the
 * station (see api/hls-routes.ts) and, with a folder, written there as
 * files for any web server or CDN. Listeners are the clients that fetched a
 * segment lately.
 */
export class HlsOutput {
  readonly variants: Variant[];
  private readonly clients = new Map<string, number>();
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(
    renditions: readonly Rendition[],
    private readonly opts: HlsOutputOptions,
  ) {
    this.log = opts.logger.child({ channel: opts.channelId, output: 'hls' });
    this.now = opts.now ?? (() => Date.now());
    const used = new Set<string>();
    this.variants = renditions.map((rendition) => {
      let key = `${rendition.spec.codec}_${rendition.spec.bitrate}`;
      for (let i = 2; used.has(key); i++) key = `${rendition.spec.codec}_${rendition.spec.bitrate}_${i}`;
      used.add(key);
      const variant: Variant = { key, rendition, writing: Promise.resolve(), segmenter: undefined as unknown as HlsSegmenter };
      variant.segmenter = new HlsSegmenter(rendition, {
        targetSeconds: HLS_TARGET_SECONDS,
        keep: KEEP,
        window: WINDOW,
        artUrl: opts.artUrl,
        onSegment: (segment) => this.written(variant, segment),
      });
      return variant;
    });
    if (opts.dir) void this.writeFile(path.join(opts.dir, opts.channelId, 'live.m3u8'), this.master());
  }

  master(): string {
    return masterPlaylist(this.variants.map((v) => ({ uri: `${v.key}/index.m3u8`, bitrateKbps: v.rendition.spec.bitrate, codecs: 'mp4a.40.2', name: v.key })));
  }

  media(key: string): string | null {
    const v = this.variants.find((x) => x.key === key);
    if (!v) return null;
    const { segments, firstSequence } = v.segmenter.live;
    return mediaPlaylist(segments, firstSequence, HLS_TARGET_SECONDS);
  }

  segment(key: string, name: string): Buffer | null {
    return this.variants.find((x) => x.key === key)?.segmenter.segment(name)?.data ?? null;
  }

  /** A client fetched a segment: it listens. */
  seen(client: string): void {
    this.clients.delete(client);
    this.clients.set(client, this.now());
  }

  /** Clients that fetched a segment within the last three segments' time. */
  get listeners(): number {
    const since = this.now() - LISTENER_IDLE_MS;
    for (const [client, at] of this.clients) {
      if (at >= since) break;
      this.clients.delete(client);
    }
    return this.clients.size;
  }

  async close(): Promise<void> {
    for (const v of this.variants) v.segmenter.close();
    await Promise.all(this.variants.map((v) => v.writing));
  }

  /** With a folder: the segment, then the playlist naming it; the segment that left the window's tail is deleted. */
  private written(v: Variant, segment: HlsSegment): void {
    this.log.debug({ variant: v.key, segment: segment.name, seconds: Math.round(segment.duration * 1000) / 1000 }, 'HLS segment');
    const dir = this.opts.dir;
    if (!dir) return;
    const folder = path.join(dir, this.opts.channelId, v.key);
    const gone = v.segmenter.segments.length >= KEEP ? v.segmenter.segments[0]!.sequence - 1 : -1;
    const playlist = this.media(v.key)!;
    v.writing = v.writing.then(async () => {
      await this.writeFile(path.join(folder, segment.name), segment.data);
      await this.writeFile(path.join(folder, 'index.m3u8'), playlist);
      if (gone >= 0) await rm(path.join(folder, `${v.segmenter.session}-${gone}.aac`), { force: true });
    });
  }

  /** Written beside and renamed over, so a web server never serves half a file. */
  private async writeFile(file: string, data: string | Buffer): Promise<void> {
    try {
      await mkdir(path.dirname(file), { recursive: true });
      const tmp = `${file}.tmp`;
      await writeFile(tmp, data);
      await rename(tmp, file);
    } catch (err) {
      this.log.warn({ file, err: err instanceof Error ? err.message : String(err) }, 'HLS: cannot write to the folder');
    }
  }
}
