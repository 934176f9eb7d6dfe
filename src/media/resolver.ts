import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { trackKey, type QqTrack, type Track } from '../config/playlist.js';
import { DownloadError, TrackUnavailableError, reasonOf, type TrackStep } from '../errors.js';
import type { MediaCache, CacheLease } from './cache.js';
import { downloadToFile } from './fetch.js';
import { ProbeMemo, type Probed } from './probe-memo.js';
import type { TrackInfo } from './track-info.js';

/** A song ready to decode: a local file plus what is known about it. */
export interface PreparedMedia {
  info: TrackInfo;
  path: string;
  /** Exact audio length when the container declares it (MP4 edit list); decoders stop there. */
  exactSeconds: number | null;
  /** Audio codec, as the probe named it. */
  codec: string | undefined;
  /** Let the cache evict the file again. */
  release(): void;
}

/** Where a remote catalogue song's media is, as a provider (api-proxy) answers. */
export interface ResolvedRemote {
  url: string;
  /** Stable identity of the media for the disk cache (not the expiring URL). */
  cacheKey: string;
  info: Partial<Omit<TrackInfo, 'key' | 'source'>>;
}

/** Resolves catalogue songs (QQ Music through api-proxy). */
export interface RemoteProvider {
  resolve(track: QqTrack, opts: { fresh: boolean; signal?: AbortSignal }): Promise<ResolvedRemote>;
}

export interface ResolverOptions {
  /** ffmpeg builds that probe files, tried in order (see proberChoice). */
  probers: readonly string[];
  cache: MediaCache;
  maxDownloadBytes: number;
  logger: Logger;
  qq?: RemoteProvider | undefined;
}

/**
 * Turns a playlist entry into a local, probed file: local files are used in
 * place; URLs and catalogue songs are downloaded once into the disk cache.
 * Every failure becomes a TrackUnavailableError naming the song, the step
 * and the reason.
 */
export class MediaResolver {
  /** Downloads under way by cache key: a song prepared twice at once (a one-song loop) downloads once. */
  private readonly downloads = new Map<string, Promise<void>>();

  private readonly probes: ProbeMemo;

  constructor(private readonly opts: ResolverOptions) {
    this.probes = new ProbeMemo(opts.probers);
  }

  async prepare(track: Track, signal?: AbortSignal): Promise<PreparedMedia> {
    const key = trackKey(track);
    const label = describe(track);
    let lease: CacheLease;
    /** The cache entry behind `lease`; null for local files. */
    let cacheKey: string | null = null;
    let remoteInfo: ResolvedRemote['info'] = {};
    switch (track.source) {
      case 'file':
        await step(label, 'resolve', () => access(track.path, constants.R_OK));
        lease = { path: track.path, release: () => undefined };
        break;
      case 'url':
        cacheKey = `url:${track.url}`;
        lease = await this.fetch(label, cacheKey, track.url, signal);
        break;
      case 'qq': {
        const provider = this.opts.qq;
        if (!provider) throw new TrackUnavailableError(label, 'resolve', 'qq tracks need API_PROXY_URL and API_PROXY_TOKEN');
        const remote = await step(label, 'resolve', () => provider.resolve(track, { fresh: false, signal }));
        remoteInfo = remote.info;
        cacheKey = remote.cacheKey;
        try {
          lease = await this.fetch(label, cacheKey, remote.url, signal);
        } catch (err) {
          // An expired or refused play URL (403/404): resolve once more before giving up.
          const status = err instanceof TrackUnavailableError && err.cause instanceof DownloadError ? err.cause.status : undefined;
          if (status !== 403 && status !== 404) throw err;
          const again = await step(label, 'resolve', () => provider.resolve(track, { fresh: true, signal }));
          lease = await this.fetch(label, again.cacheKey, again.url, signal);
        }
        break;
      }
    }
    let probed: Probed;
    try {
      probed = await step(label, 'probe', () => this.probes.probe(lease.path));
    } catch (err) {
      lease.release();
      // A cached file that does not probe is bad: do not keep serving it.
      if (cacheKey !== null) await this.opts.cache.remove(cacheKey);
      throw err;
    }
    const { tags, exactSeconds } = probed;
    const info: TrackInfo = {
      key,
      source: track.source,
      title: track.title ?? remoteInfo.title ?? tags.title ?? fallbackTitle(track),
      artist: track.artist ?? remoteInfo.artist ?? tags.artist,
      album: track.album ?? remoteInfo.album ?? tags.album,
      coverUrl: remoteInfo.coverUrl,
      durationMs: exactSeconds !== null ? Math.round(exactSeconds * 1000) : (tags.durationMs ?? remoteInfo.durationMs),
    };
    return { info, path: lease.path, exactSeconds, codec: tags.codec, release: lease.release };
  }

  private async fetch(label: string, cacheKey: string, url: string, signal?: AbortSignal): Promise<CacheLease> {
    const running = this.downloads.get(cacheKey);
    if (running) await running.catch(() => undefined);
    const hit = this.opts.cache.acquire(cacheKey);
    if (hit) return hit;
    let lease!: CacheLease;
    const download = this.download(label, cacheKey, url, signal).then((l) => {
      lease = l;
    });
    this.downloads.set(cacheKey, download);
    try {
      await download;
    } finally {
      this.downloads.delete(cacheKey);
    }
    return lease;
  }

  private async download(label: string, cacheKey: string, url: string, signal?: AbortSignal): Promise<CacheLease> {
    const { cache, logger } = this.opts;
    const tmp = cache.tempPath();
    const started = Date.now();
    logger.info({ song: label }, 'downloading');
    const { bytes } = await step(label, 'download', () =>
      downloadToFile(url, tmp, {
        maxBytes: this.opts.maxDownloadBytes,
        signal,
        onProgress: (done, total) => logger.info({ song: label, bytes: done, total }, 'download progress'),
      }),
    );
    await cache.evict(bytes);
    const lease = await cache.commit(cacheKey, tmp);
    logger.info({ song: label, bytes, ms: Date.now() - started }, 'downloaded');
    return lease;
  }
}

/** Run one preparation step, turning any failure into a TrackUnavailableError for that step. */
async function step<T>(label: string, which: TrackStep, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof TrackUnavailableError) throw err;
    throw new TrackUnavailableError(label, which, reasonOf(err), { cause: err });
  }
}

/** How a song is named in logs. */
export function describe(track: Track): string {
  const name = track.title ? ` "${track.title}"` : '';
  switch (track.source) {
    case 'file':
      return `file ${track.path}${name}`;
    case 'url':
      return `url ${track.url}${name}`;
    case 'qq':
      return `qq ${track.id}${name}`;
  }
}

/** The file or URL name without its extension. */
function fallbackTitle(track: Track): string {
  const raw = track.source === 'file' ? track.path : track.source === 'url' ? new URL(track.url).pathname : track.id;
  let base = path.basename(raw, path.extname(raw));
  try {
    base = decodeURIComponent(base);
  } catch {
    /* keep it encoded */
  }
  return base || raw;
}
