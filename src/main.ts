/**
 * Composition root: configuration in, a running station out. Nothing else
 * imports this file.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { AppDeps } from './api/app.js';
import { buildMetrics } from './api/metrics.js';
import { djsFileOf, loadEnv, type Env } from './config/env.js';
import { AnalysisStore } from './decode/analysis-store.js';
import { MediaCache } from './acquire/media-cache.js';
import { encoderThreads, resolveAacEncoder, resolveEncoder } from './encode/encoder-choice.js';
import { decoderChoice, mainIsShippedBuild, proberChoice, resolveFfmpegPath } from './ffmpeg/binaries.js';
import { LAUNCHER_AFTER_CHANNELS, launchWhen } from './ffmpeg/launcher.js';
import { AddressPolicy } from './config/address-policy.js';
import { KvCache } from './kernel/kv-cache.js';
import { QqProvider } from './acquire/qq-provider.js';
import { MediaResolver } from './acquire/resolver.js';
import { icecastRetryPolicy } from './outputs/icecast/retry.js';
import { OutputSet } from './outputs/output-set.js';
import { Channel } from './playout/channel.js';
import { channelEncodings } from './encode/channel-encoding.js';
import { MP3_FRAME_SAMPLES } from './audio/mp3.js';
import { startRenditionEncoding } from './encode/renditions.js';
import type { Rendition } from './config/playlist.js';
import type { StartEncoding } from './playout/encoder-keeper.js';
import { ProgrammeSource } from './playout/sources/programme/programme-source.js';
import { collectionOpener } from './acquire/collections/open.js';
import { Station } from './playout/station.js';
import { isEntry, runService } from './kernel/service.js';
import { REAL_CLOCK, sharedTimers } from './kernel/lifecycle.js';
import { LiveIngest } from './live/ingest.js';
import { ShowRecorder } from './live/recorder.js';
import { Webhooks } from './outputs/webhooks.js';
import { settleHeapAfterStart } from './kernel/startup-heap.js';
import { ListenerStats } from './outputs/listener-stats.js';
import { ArtLinks } from './outputs/art-links.js';
import { ArtStore } from './acquire/art/art-store.js';
import { sourceOnlyServer } from './live/front-door.js';

const VERSION = '0.1.0';

export interface RunningStation {
  url: string;
  station: Station;
  outputs: OutputSet;
  /** LIVE_PORT as bound, if set. */
  livePort: number | null;
  close(): Promise<void>;
}

/** Start everything the environment describes. */
/** What tests may set beyond the environment: the feed's limits, and the wall clock DJs' hours are read on. */
export type StationTuning = Pick<AppDeps, 'feed'> & { liveClock?: () => Date };

export async function startStation(env: Readonly<Env>, logger: Logger, tuning: StationTuning = {}): Promise<RunningStation> {
  const { liveClock, ...appTuning } = tuning;
  const ffmpegPath = resolveFfmpegPath(env.FFMPEG_PATH);
  const decoderFor = decoderChoice(env.FFMPEG_DECODER_PATH, ffmpegPath);
  const encoder = resolveEncoder(env.MP3_ENCODER, env.LAME_PATH, ffmpegPath, env.LAME_LIBRARY);
  // The channel count is read when an encoder starts: by then `station` exists.
  const threads = encoderThreads(env.ENCODER_THREADS, () => station.plannedChannels, logger.child({ component: 'encoder' }));
  if (encoder.tool === 'lib') encoder.pool = threads.pick;
  // A big station starts ffmpeg through a small helper process (ffmpeg/launcher.ts), which reports its own crashes.
  // ffmpeg may run before `station` exists (an encoder's capability check): until then, no launcher.
  let planned = (): number => 0;
  launchWhen(() => planned() > LAUNCHER_AFTER_CHANNELS, logger.child({ component: 'ffmpeg-launcher' }));
  // Asked for by name: refused at start when it cannot be had (auto decides when a rendition first needs AAC).
  if (env.AAC_ENCODER === 'lib') resolveAacEncoder('lib');
  logger.info(
    { ffmpeg: ffmpegPath, aacDecoder: decoderFor('aac', true), downloadsDecoder: decoderFor('aac', false), encoder },
    `encoding with ${encoder.tool}`,
  );
  if (!env.FFMPEG_DECODER_PATH && mainIsShippedBuild(ffmpegPath)) {
    logger.warn(
      'no system ffmpeg: downloaded songs are decoded by the npm-shipped 2018 build, which lacks years of decoder security fixes (apt-get install ffmpeg)',
    );
  }
  if (env.MP3_ENCODER === 'auto' && encoder.tool === 'ffmpeg') {
    logger.info('libmp3lame and lame are not installed: encoding with ffmpeg (apt-get install lame gives the same MP3 bytes for a fraction of the cost)');
  }
  const playlistsDir = path.resolve(env.PLAYLISTS_DIR);
  await mkdir(playlistsDir, { recursive: true });
  const cache = new MediaCache(path.resolve(env.CACHE_DIR), env.CACHE_MAX_MB * 1024 * 1024, logger.child({ component: 'cache' }));
  await cache.init();
  const analyses = new AnalysisStore(path.join(path.resolve(env.CACHE_DIR), 'analysis.jsonl'), logger.child({ component: 'loudness' }));
  await analyses.load();
  const kv = new KvCache(env.REDIS_URL, logger.child({ component: 'redis' }), { memory: true });
  const qq =
    env.API_PROXY_URL && env.API_PROXY_TOKEN
      ? new QqProvider({ baseUrl: env.API_PROXY_URL, token: env.API_PROXY_TOKEN, cache: kv, logger, timeoutMs: env.API_PROXY_TIMEOUT_MS })
      : undefined;
  const mediaDirs = env.MEDIA_DIRS.map((d) => path.resolve(d));
  const policy = new AddressPolicy(env.MEDIA_ALLOW_HOSTS);
  const openCollection = collectionOpener({ roots: [playlistsDir, ...mediaDirs], policy, qq });
  /** Where this server is reached, once it listens (PUBLIC_URL wins). */
  let baseUrl = '';
  const stationArt = env.STATION_ART && !/^https?:\/\//i.test(env.STATION_ART) ? path.resolve(env.STATION_ART) : env.STATION_ART;
  const art = new ArtStore({
    dir: path.join(path.resolve(env.CACHE_DIR), 'art'),
    ffmpeg: ffmpegPath,
    policy,
    // The operator's own STATION_ART may sit anywhere they chose.
    roots: [playlistsDir, ...mediaDirs, ...(stationArt && stationArt.startsWith('/') ? [path.dirname(stationArt)] : [])],
    logger: logger.child({ component: 'art' }),
  });
  await art.load();
  const artLinks = new ArtLinks(art, stationArt);
  const resolver = new MediaResolver({
    probers: proberChoice(env.FFMPEG_DECODER_PATH, ffmpegPath),
    cache,
    maxDownloadBytes: env.MAX_DOWNLOAD_MB * 1024 * 1024,
    downloadTimeoutMs: env.DOWNLOAD_TIMEOUT_S * 1000,
    policy,
    roots: [playlistsDir, ...mediaDirs],
    maxFileBytes: env.MAX_FILE_MB * 1024 * 1024,
    analyses,
    art,
    logger,
    qq,
  });
  const mainEncoding = channelEncodings({
    encoder,
    frames: env.REUSE_FRAMES ? { dir: path.join(path.resolve(env.CACHE_DIR), 'frames'), maxBytes: env.FRAMES_MAX_MB * 1024 * 1024 } : null,
    log: logger,
  });
  // Every channel's tick on one interval (the station's clock): one wake-up a tick, whatever the number of channels.
  const channelTicks = sharedTimers();
  const station = new Station({
    dir: playlistsDir,
    mediaDirs,
    logger,
    createChannel: ({ id, playlist }) => {
      const log = logger.child({ channel: id });
      const source = new ProgrammeSource({ playlist, log, deps: { resolver, decoderFor, openCollection, now: () => performance.now() } });
      const startEncoding: StartEncoding = (o) => mainEncoding(playlist.bitrate, log, o);
      const startRendition =
        (r: Rendition): StartEncoding =>
        (o) =>
          startRenditionEncoding(r, { mp3: encoder, ffmpeg: ffmpegPath, aac: env.AAC_ENCODER, log }, o);
      return new Channel({
        id,
        playlist,
        source,
        startEncoding,
        startRendition,
        logger,
        leadMs: env.PACING_LEAD_MS,
        deadAirMs: env.DEAD_AIR_SECONDS * 1000,
        timers: channelTicks,
        frameGrid: env.REUSE_FRAMES ? MP3_FRAME_SAMPLES : undefined,
      });
    },
  });
  planned = () => station.plannedChannels;
  artLinks.watch(station);
  const outputs = new OutputSet(station, {
    icecast: env.ICECAST_URL,
    method: env.ICECAST_METHOD,
    admin: env.ICECAST_ADMIN_USER && env.ICECAST_ADMIN_PASSWORD ? { user: env.ICECAST_ADMIN_USER, password: env.ICECAST_ADMIN_PASSWORD } : undefined,
    retry: icecastRetryPolicy({ capMs: env.ICECAST_RECONNECT_MAX_MS }),
    builtin: env.BUILTIN_OUTPUT,
    logger,
    userAgent: `sCast/${VERSION}`,
    artUrl: (np, p) => `${env.PUBLIC_URL ?? baseUrl}${artLinks.path(np, p)}`,
    hlsDir: env.HLS_DIR && path.resolve(env.HLS_DIR),
    rtmp: { ffmpeg: ffmpegPath, picture: (np, p) => artLinks.file(np, p), env: process.env },
  });
  const live = new LiveIngest({
    station,
    djsFile: djsFileOf(env),
    logger,
    decoderPath: decoderFor('mp3', false),
    sourceTimeoutMs: env.LIVE_SOURCE_TIMEOUT_S * 1000,
    headTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS,
    ...(liveClock ? { clock: { ...REAL_CLOCK, date: liveClock } } : {}),
  });
  new ShowRecorder(station, path.resolve(env.RECORDINGS_DIR), logger.child({ component: 'live' }));
  const stats = new ListenerStats({ station, outputs, icecast: env.ICECAST_URL, file: path.join(path.resolve(env.CACHE_DIR), 'listeners.json'), logger });
  const webhooks = new Webhooks(station, { policy, secret: env.WEBHOOK_SECRET, publicUrl: () => env.PUBLIC_URL ?? baseUrl, art: artLinks, logger });
  const icecastUrls = env.ICECAST_URL.map((t) => `http://${t.server}`);
  // Channels first, and their Icecast handshakes done (a few ms on a LAN),
  // before the HTTP side loads: loading fastify holds the event loop for
  // ~40 ms, which would otherwise delay every mount going live by as much.
  await station.start();
  await outputs.attemptsSettled(250);
  // Off the start path: it reads Icecast's status pages.
  void stats.start();
  const { buildApp } = await import('./api/app.js');
  const { ConnectionGuard, descriptorLimit, descriptorReserve, effectiveConnectionCap } = await import('./api/connection-guard.js');
  const fdLimit = descriptorLimit();
  // The reserve grows with the channels: each holds descriptors of its own (decoders, encoder, files, Icecast).
  let announced = env.MAX_CONNECTIONS;
  const maxConnections = (): number => {
    const reserve = descriptorReserve(env.FD_RESERVE, station.channels.length);
    const cap = effectiveConnectionCap(env.MAX_CONNECTIONS, fdLimit, reserve);
    if (cap !== announced && cap < env.MAX_CONNECTIONS)
      logger.info(
        { fdLimit, reserve, channels: station.channels.length, maxConnections: cap },
        'connection cap lowered to stay within the descriptor limit (ulimit -n)',
      );
    announced = cap;
    return cap;
  };
  maxConnections();
  const http = {
    maxConnections,
    maxPerAddress: env.MAX_CONNECTIONS_PER_ADDRESS,
    // A burst's room over the cap for one loop turn comes out of the station's own reserve.
    headroom: Math.floor(env.FD_RESERVE / 4),
    headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS,
    idleTimeoutMs: env.HTTP_IDLE_TIMEOUT_MS,
  };
  // One guard for every listening socket: the HTTP port and LIVE_PORT draw on the same descriptors.
  const guard = new ConnectionGuard(http, logger.child({ component: 'http' }));
  const app = buildApp({
    station,
    outputs,
    live,
    guard,
    logger,
    publicUrl: () => env.PUBLIC_URL ?? baseUrl,
    fixedPublicUrl: env.PUBLIC_URL,
    icecastUrls,
    controlToken: env.CONTROL_TOKEN,
    metrics: () => buildMetrics({ station, outputs, cache, connections: app.guard.stats, webhooks, stats }),
    stats,
    art: { store: art, links: artLinks },
    http,
    ...appTuning,
  });
  await app.listen({ port: env.HTTP_PORT, host: env.HTTP_HOST });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : env.HTTP_PORT;
  const livePort =
    env.LIVE_PORT === undefined
      ? null
      : sourceOnlyServer(env.HTTP_HEADERS_TIMEOUT_MS, guard, (socket, first) => live.accept(socket, first, (s) => guard.busy(s)));
  if (livePort) {
    await new Promise<void>((resolve, reject) => livePort.once('error', reject).listen(env.LIVE_PORT, env.HTTP_HOST, () => resolve()));
    logger.info({ port: (livePort.address() as { port: number }).port }, 'live sources also taken on LIVE_PORT');
  }
  baseUrl = `http://${env.HTTP_HOST === '0.0.0.0' || env.HTTP_HOST === '::' ? 'localhost' : env.HTTP_HOST}:${port}`;
  for (const c of station.channels) {
    const where = [env.BUILTIN_OUTPUT ? `${baseUrl}${c.playlist.mount}` : null, ...icecastUrls.map((u) => `${u}${c.playlist.mount}`)];
    logger.info({ channel: c.id, listen: where.filter(Boolean) }, `tune in: ${where.filter(Boolean).join('  ')}`);
  }
  if (process.stderr.isTTY) {
    for (const c of station.channels)
      process.stderr.write(
        `\n  ${c.playlist.name}: ${env.BUILTIN_OUTPUT ? `${baseUrl}${c.playlist.mount}` : icecastUrls.map((u) => u + c.playlist.mount).join(' ')}\n`,
      );
    process.stderr.write('\n');
  }
  if (station.channels.length === 0) logger.warn({ dir: playlistsDir }, 'no playlists yet: add a .json file to start a channel');
  const shutdown = async (): Promise<void> => {
    await live.close();
    livePort?.close();
    await outputs.close();
    await station.close();
    await threads.close();
    // The channels' off-air messages go out if their receivers answer soon; a stop is not held up longer.
    stats.close();
    await webhooks.settled(2000);
    webhooks.close();
    await app.close();
    await qq?.close();
    await kv.close();
  };
  let closing: Promise<void> | undefined;
  return {
    url: baseUrl,
    station,
    outputs,
    livePort: livePort ? (livePort.address() as { port: number }).port : null,
    close: () => (closing ??= shutdown()),
  };
}

if (isEntry(import.meta.url)) {
  void runService({
    service: 'streamer',
    loadEnv: loadEnv,
    start: async (env, logger) => {
      const station = await startStation(env, logger);
      settleHeapAfterStart();
      return station;
    },
    stopping: 'stopping: ending Icecast connections cleanly',
  });
}
