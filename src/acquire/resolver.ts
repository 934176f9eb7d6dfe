import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { cleanDisplayText, trackKey, type QqTrack, type Track } from '../config/playlist.js';
import { pinRegularFile } from '../config/safe-files.js';
import { redactUrl } from '../kernel/redact.js';
import type { AddressPolicy } from '../config/address-policy.js';
import { DownloadError, TrackUnavailableError, WatchdogError, reasonOf, type TrackStep } from '../kernel/errors.js';
import type { MediaCache, CacheLease } from './media-cache.js';
import { downloadToFile } from './fetch.js';
import type { ProberChoice } from '../ffmpeg/binaries.js';
import { ProbeMemo, type Probed } from './probe-memo.js';
import type { Analysis } from '../audio/loudness.js';
import { Semaphore } from '../kernel/semaphore.js';
import { analyzeMedia } from '../decode/analysis.js';
import { AnalysisStore } from '../decode/analysis-store.js';
import type { TrackInfo } from './track-info.js';
import type { ArtStore } from './art/art-store.js';
import { AUDIO_DEMUXERS } from '../ffmpeg/input.js';

/** A song ready to decode: a local file plus what is known about it. */
export interface PreparedMedia {
  info: TrackInfo;
  path: string;
  /** Exact audio length when the container declares it (MP4 edit list); decoders stop there. */
  exactSeconds: number | null;
  /** Audio codec, as the probe named it. */
  codec: string | undefined;
  /** The operator's own file (PLAYLISTS_DIR, MEDIA_DIRS), as against a download from the internet. */
  trusted: boolean;
  /** Loudness, true peak and audible span, when already known. */
  analysis: Analysis | null;
  /** The analysis under way, when it was not known: resolves with it (null if it failed). */
  analysing: Promise<Analysis | null> | null;
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
  /** The song's cover (album art), as image bytes; null when the service has none. */
  cover?(track: QqTrack, signal?: AbortSignal): Promise<Buffer | null>;
}

export interface ResolverOptions {
  /** ffmpeg builds that probe files, tried in order, for local files and for downloads (see proberChoice). */
  probers: ProberChoice;
  cache: MediaCache;
  maxDownloadBytes: number;
  /** Where downloads may come from (MEDIA_ALLOW_HOSTS). */
  policy: AddressPolicy;
  /** Folders `file` tracks must resolve into, links followed. */
  roots: readonly string[];
  /** Largest local media file read. */
  maxFileBytes: number;
  /** The whole of one download at most. Default 5 min. */
  downloadTimeoutMs?: number;
  /** Where loudness analyses are kept; none: songs are not analysed. */
  analyses?: AnalysisStore | undefined;
  /** Where cover art is made and kept; none: songs get no art of their own. */
  art?: ArtStore | undefined;

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
  /** Downloads running at once, station-wide; more wait their turn. */
  private readonly downloadSlots: Semaphore;
  /** Analyses running at once: each is an ffmpeg decoding far faster than real time. */
  private readonly analysisSlots: Semaphore;
  private readonly analysing = new Map<string, Promise<Analysis | null>>();

  constructor(private readonly opts: ResolverOptions) {
    this.probes = new ProbeMemo(opts.probers);
    this.downloadSlots = new Semaphore(MAX_CONCURRENT_DOWNLOADS);
    this.analysisSlots = new Semaphore(MAX_CONCURRENT_ANALYSES);
  }

  async prepare(track: Track, signal?: AbortSignal): Promise<PreparedMedia> {
    const key = trackKey(track);
    const label = describe(track);
    let lease: CacheLease;
    /** The cache entry behind `lease`; null for local files. */
    let cacheKey: string | null = null;
    let remoteInfo: ResolvedRemote['info'] = {};
    let trusted = false;
    /** The file's own name, for the analysis key (a pinned file is read through /proc). */
    let keyPath: string | null = null;
    /** A pinned file is closed once the song and its analysis are both done with it. */
    let users = 1;
    let holdOpen: ((n: 1 | -1) => void) | null = null;
    switch (track.source) {
      case 'file': {
        // Links are followed here, at play time: a link planted after the playlist was read is caught too. The file
        // stays open until the song is done, and every ffmpeg reads it through that descriptor: what was checked plays.
        const pin = await step(label, 'resolve', () => pinRegularFile(track.path, this.opts.roots, this.opts.maxFileBytes));
        lease = { path: pin.path, release: () => void pin.close() };
        keyPath = pin.real;
        holdOpen = (n) => {
          users += n;
          if (users === 0) void pin.close();
        };
        trusted = true;
        break;
      }
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
    // Measured alongside the probe; the song does not wait for it (see PreparedMedia.analysing).
    if (holdOpen) {
      const hold = holdOpen;
      lease = { path: lease.path, release: () => hold(-1) };
    }
    let analysisKey: string | null;
    try {
      analysisKey = this.opts.analyses ? await step(label, 'probe', () => AnalysisStore.keyOf(keyPath ?? lease.path, lease.path)) : null;
    } catch (err) {
      lease.release();
      throw err;
    }
    const analysis = (analysisKey && this.opts.analyses?.get(analysisKey)) || null;
    holdOpen?.(1);
    const analysing = analysis || !analysisKey ? null : this.analyse(analysisKey, lease.path, label);
    if (analysing) void analysing.finally(() => holdOpen?.(-1));
    else holdOpen?.(-1);
    let probed: Probed;
    try {
      probed = await step(label, 'probe', () => this.probes.probe(lease.path, trusted));
    } catch (err) {
      lease.release();
      // A cached file that does not probe is bad: do not keep serving it.
      if (cacheKey !== null) await this.opts.cache.remove(cacheKey);
      throw err;
    }
    const { tags, exactSeconds } = probed;
    const artId = await this.artOf(track, label, { file: lease.path, keyPath: keyPath ?? lease.path, picture: tags.picture === true }, signal);
    const { startSeconds, endSeconds } = cueSpan(track, analysis, exactSeconds);
    // Tags and the music service's answers are shown to every listener: same rules as playlist titles.
    const info: TrackInfo = {
      key,
      source: track.source,
      title: track.title ?? cleanDisplayText(remoteInfo.title) ?? cleanDisplayText(tags.title) ?? fallbackTitle(track),
      artist: track.artist ?? cleanDisplayText(remoteInfo.artist) ?? cleanDisplayText(tags.artist),
      album: track.album ?? cleanDisplayText(remoteInfo.album) ?? cleanDisplayText(tags.album),
      ...(artId ? { artId } : {}),
      durationMs: endSeconds !== null ? Math.round((endSeconds - startSeconds) * 1000) : (tags.durationMs ?? remoteInfo.durationMs),
    };
    return { info, path: lease.path, exactSeconds, codec: tags.codec, trusted, analysis, analysing, release: lease.release };
  }

  /**
   * The song's cover art, first found of: the playlist's `art`; a picture in
   * the file; the music service's album art; a cover file beside a local
   * song (cover.jpg, folder.jpg...). Made once per source (see ArtStore);
   * never fails the song.
   */
  private async artOf(track: Track, label: string, media: { file: string; keyPath: string; picture: boolean }, signal?: AbortSignal): Promise<string | null> {
    const store = this.opts.art;
    if (!store) return null;
    const find = async (): Promise<string | null> => {
      if (track.art !== undefined) {
        const id = await store.fromRef(track.art);
        if (id) return id;
      }
      if (media.picture) {
        const version = await AnalysisStore.keyOf(media.keyPath, media.file);
        const id = version && (await store.get(`embedded:${version}`, label, async () => ({ file: media.file, attached: AUDIO_DEMUXERS })));
        if (id) return id;
      }
      const provider = this.opts.qq;
      if (track.source === 'qq' && provider?.cover) {
        const id = await store.get(`qq:${track.id}`, label, async () => {
          const bytes = await provider.cover!(track, signal);
          return bytes ? store.bytes(bytes) : null;
        });
        if (id) return id;
      }
      if (track.source === 'file') {
        for (const name of COVER_FILES) {
          const beside = path.join(path.dirname(media.keyPath), name);
          const version = await AnalysisStore.keyOf(beside);
          if (version) return store.fromRef(beside);
        }
      }
      return null;
    };
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), ART_WAIT_MS);
    });
    try {
      return await Promise.race([find().catch(() => null), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Measure a file version (once at a time per `key`) and keep the result; null when it cannot be. */
  private analyse(key: string, file: string, label: string): Promise<Analysis | null> {
    const store = this.opts.analyses;
    if (!store) return Promise.resolve(null);
    let running = this.analysing.get(key);
    if (!running) {
      // The main (system) ffmpeg: once per song version, and its ebur128 is the current one.
      const ffmpeg = this.opts.probers.untrusted[0]!;
      const started = Date.now();
      running = this.analysisSlots
        .run(() => analyzeMedia(ffmpeg, file))
        .then(async (a) => {
          await store.put(key, a);
          this.opts.logger.debug({ song: label, ms: Date.now() - started, ...a }, 'loudness analysed');
          return a;
        })
        .catch((err: unknown) => {
          this.opts.logger.warn({ song: label, err: reasonOf(err) }, 'loudness analysis failed; the song plays at its own level');
          return null;
        })
        .finally(() => this.analysing.delete(key));
      this.analysing.set(key, running);
    }
    return running;
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
    const { bytes } = await step(label, 'download', () =>
      this.downloadSlots.run(() => {
        logger.info({ song: label }, 'downloading');
        return downloadToFile(url, tmp, {
          maxBytes: this.opts.maxDownloadBytes,
          policy: this.opts.policy,
          signal,
          ...(this.opts.downloadTimeoutMs === undefined ? {} : { totalTimeoutMs: this.opts.downloadTimeoutMs }),
          onProgress: (done, total) => logger.info({ song: label, bytes: done, total }, 'download progress'),
        });
      }),
    );
    // Only a file that probes as playable enters the cache: a corrupt download
    // is never there, not even briefly. The probe is remembered by inode, so
    // the rename into the cache does not cost a second one.
    try {
      await step(label, 'probe', () => this.probes.probe(tmp, false));
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    await cache.evict(bytes);
    const lease = await cache.commit(cacheKey, tmp);
    logger.info({ song: label, bytes, ms: Date.now() - started }, 'downloaded');
    return lease;
  }
}

/**
 * Where decoding starts and stops, seconds into the file: the track's own
 * cues win; else autocue's from the analysis; the MP4 edit list's end bounds
 * them all. Null end: to the end of the file.
 */
export function cueSpan(track: Track, analysis: Analysis | null, exactSeconds: number | null): { startSeconds: number; endSeconds: number | null } {
  const startSeconds = track.cueIn ?? analysis?.startSeconds ?? 0;
  const ends = [track.cueOut, track.cueOut === undefined ? (analysis?.endSeconds ?? undefined) : undefined, exactSeconds ?? undefined].filter(
    (x): x is number => x !== undefined,
  );
  return { startSeconds, endSeconds: ends.length > 0 ? Math.max(startSeconds, Math.min(...ends)) : null };
}

/** Loudness analyses at once across the station (each an ffmpeg at full speed): one per core here. */
const MAX_CONCURRENT_ANALYSES = 2;

/** Downloads at once across the station: enough for every channel's next song, few enough for a small uplink. */
const MAX_CONCURRENT_DOWNLOADS = 8;

/** Pictures beside a song that stand for its album, as music players look for them. */
const COVER_FILES = ['cover.jpg', 'folder.jpg', 'front.jpg', 'cover.png', 'folder.png', 'front.png', 'cover.webp'];

/** How long a song's preparation waits for its art; a slower picture is ready for its next play. */
const ART_WAIT_MS = 10_000;

/**
 * The longest each preparation step may take before its watchdog gives up
 * on it (the step's own time-outs come first; these catch what has none: a
 * file system call stuck behind a busy thread pool, a process that never
 * exits). Downloads are bounded by their own total time-out.
 */
const WATCHDOG_MS: Record<TrackStep, number> = { resolve: 60_000, download: Infinity, probe: 45_000, decode: Infinity };

/** Run one preparation step under its watchdog, turning any failure into a TrackUnavailableError for that step. */
async function step<T>(label: string, which: TrackStep, fn: () => Promise<T>): Promise<T> {
  try {
    const limit = WATCHDOG_MS[which];
    if (!Number.isFinite(limit)) return await fn();
    let timer: NodeJS.Timeout | undefined;
    const watchdog = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new WatchdogError(`preparing ${label} (${which})`, limit)), limit);
    });
    try {
      return await Promise.race([fn(), watchdog]);
    } finally {
      clearTimeout(timer);
    }
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
      return `url ${redactUrl(track.url)}${name}`;
    case 'qq':
      return `qq ${track.id}${name}`;
  }
}

/** The file or URL name without its extension: a song's title when it has none, and never a folder, host or query. */
export function fallbackTitle(track: Track): string {
  const raw = track.source === 'file' ? track.path : track.source === 'url' ? new URL(track.url).pathname : track.id;
  let base = path.basename(raw, path.extname(raw));
  try {
    base = decodeURIComponent(base);
  } catch {
    /* keep it encoded */
  }
  // A file name is anyone's text (a watched folder): same rules as any title shown.
  return cleanDisplayText(base) ?? cleanDisplayText(raw) ?? 'untitled';
}
