import type { Registry } from 'prom-client';
import type { MediaCache } from '../acquire/media-cache.js';
import type { Channel } from '../playout/channel.js';
import type { Station } from '../playout/station.js';
import type { OutputSet } from '../outputs/output-set.js';
import { processFaults } from '../kernel/process-guard.js';
import type { ConnectionStats } from './connection-guard.js';
import type { Webhooks } from '../outputs/webhooks.js';
import type { ListenerStats } from '../outputs/listener-stats.js';

export interface MetricsSources {
  station: Station;
  outputs: OutputSet;
  cache: MediaCache;
  connections?: ConnectionStats;
  webhooks?: Webhooks;
  stats?: ListenerStats;
}

/** How often the event-loop delay histogram is sampled (see buildMetrics). */
const EVENT_LOOP_SAMPLE_MS = 1000;

/**
 * Prometheus metrics, read from the live objects at scrape time, so nothing
 * on the audio path does any bookkeeping for them. prom-client is loaded at
 * the first scrape, not at start.
 */
export async function buildMetrics(src: MetricsSources): Promise<Registry> {
  const { Counter, Gauge, Registry, collectDefaultMetrics } = await import('prom-client');
  const registry = new Registry();
  // prom-client samples event-loop delay every 10 ms by default: a timer
  // that wakes the process 100 times a second from the first scrape on,
  // more than a channel's own work (one tones channel: 1.02-1.12 % of a
  // core unscraped, 1.40-1.65 % once scraped). Once a second still catches
  // every stall of a second or more; the stalls that reach the audio show
  // in scast_pacing_error_seconds whatever their length.
  collectDefaultMetrics({ register: registry, prefix: 'scast_', eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  const channels = (): Channel[] => src.station.channels;

  const perChannel = (name: string, help: string, read: (c: Channel) => number): void => {
    new Counter({
      name,
      help,
      labelNames: ['channel'],
      registers: [registry],
      collect() {
        this.reset();
        for (const c of channels()) this.inc({ channel: c.id }, read(c));
      },
    });
  };
  new Gauge({
    name: 'scast_listeners_now',
    help: 'Listeners now, by output: the built-in output, and Icecast as last read (every minute)',
    labelNames: ['channel', 'output'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of channels()) {
        this.set({ channel: c.id, output: 'builtin' }, src.outputs.of(c)?.hub?.count ?? 0);
        if (src.stats) this.set({ channel: c.id, output: 'icecast' }, src.stats.icecastNow(c.playlist.mount));
      }
    },
  });
  new Gauge({
    name: 'scast_listeners_peak_24h',
    help: 'Most listeners at once (built-in plus Icecast) over the last 24 hours, by the minute',
    labelNames: ['channel'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of channels()) if (src.stats) this.set({ channel: c.id }, src.stats.of(c.id, c.playlist.mount, src.outputs.of(c)?.hub?.count ?? 0).peak24h);
    },
  });
  new Counter({
    name: 'scast_webhook_messages_total',
    help: 'Webhook messages by outcome: delivered, failed (given up after its retries or refused), dropped (queue full)',
    labelNames: ['channel', 'hook', 'result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of src.webhooks?.stats() ?? [])
        for (const result of ['delivered', 'failed', 'dropped'] as const) this.inc({ channel: s.channel, hook: s.hook, result }, s[result]);
    },
  });
  new Counter({
    name: 'scast_webhook_retries_total',
    help: 'Webhook attempts that failed and were retried',
    labelNames: ['channel', 'hook'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of src.webhooks?.stats() ?? []) this.inc({ channel: s.channel, hook: s.hook }, s.retries);
    },
  });
  perChannel('scast_audio_bytes_sent_total', 'MP3 bytes the channel sent to its outputs', (c) => c.bytesOut);
  perChannel('scast_songs_played_total', 'Songs that went on air', (c) => c.songsPlayed);
  perChannel('scast_songs_failed_total', 'Songs skipped because they could not be prepared or decoded', (c) => c.songsFailed);
  perChannel('scast_silence_seconds_total', 'Seconds of silence sent because no song was ready', (c) => c.silenceSeconds);
  perChannel(
    'scast_standin_seconds_total',
    'Seconds of silent frames sent because the encoder had nothing ready in time (an encoder stall)',
    (c) => c.standInSeconds,
  );
  perChannel('scast_encoder_restarts_total', 'Times the channel encoder had to be restarted', (c) => c.encoderRestarts);
  perChannel(
    'scast_mp3_frames_reused_total',
    'MP3 frames sent as stored from a song’s earlier play instead of encoded (REUSE_FRAMES)',
    (c) => c.mp3Frames.reused,
  );
  perChannel(
    'scast_mp3_frames_encoded_total',
    'MP3 frames the channel’s encoder made (with REUSE_FRAMES: around crossfades, skips, shows, and first plays)',
    (c) => c.mp3Frames.encoded,
  );

  new Gauge({
    name: 'scast_pacing_error_seconds',
    help: 'Audio sent minus wall-clock time since the channel started',
    labelNames: ['channel'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of channels()) this.set({ channel: c.id }, c.pacingError);
    },
  });
  new Gauge({
    name: 'scast_dead_air_seconds',
    help: 'Seconds the channel has been in dead air (nothing audible for DEAD_AIR_SECONDS); 0 while audio is audible',
    labelNames: ['channel'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of channels()) this.set({ channel: c.id }, c.deadAirSeconds);
    },
  });
  new Gauge({
    name: 'scast_builtin_listeners',
    help: 'Listeners connected to the built-in output',
    labelNames: ['channel'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of channels()) this.set({ channel: c.id }, src.outputs.of(c)?.hub?.count ?? 0);
    },
  });
  new Gauge({
    name: 'scast_icecast_connected',
    help: '1 while the channel is streaming to the Icecast server',
    labelNames: ['channel', 'server'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of channels())
        for (const o of src.outputs.of(c)?.icecast ?? []) this.set({ channel: c.id, server: o.server }, o.client.state === 'streaming' ? 1 : 0);
    },
  });
  new Counter({
    name: 'scast_icecast_reconnects_total',
    help: 'Successful Icecast connections after the first',
    labelNames: ['channel', 'server'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of channels())
        for (const o of src.outputs.of(c)?.icecast ?? []) this.inc({ channel: c.id, server: o.server }, Math.max(0, o.client.connections - 1));
    },
  });
  new Counter({
    name: 'scast_media_cache_requests_total',
    help: 'Media cache look-ups by result',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ result: 'hit' }, src.cache.hits);
      this.inc({ result: 'miss' }, src.cache.misses);
    },
  });
  new Gauge({
    name: 'scast_media_cache_bytes',
    help: 'Bytes of media in the disk cache',
    registers: [registry],
    collect() {
      this.set(src.cache.sizeBytes);
    },
  });
  new Counter({
    name: 'scast_process_faults_total',
    help: 'Exceptions and rejections no code handled, caught by the process guard (each one is a bug)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(processFaults.uncaught);
    },
  });
  const conns = src.connections;
  if (conns) {
    new Gauge({
      name: 'scast_http_connections',
      help: 'Open HTTP connections (listeners, page, API, feed), and the most ever open at once',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        this.set({ kind: 'open' }, conns.open);
        this.set({ kind: 'peak' }, conns.peak);
      },
    });
    new Counter({
      name: 'scast_http_connections_refused_total',
      help: 'Connections shed: refused on arrival over the per-address cap or with every connection busy (total), or closed while idle to make room (evicted)',
      labelNames: ['cap'],
      registers: [registry],
      collect() {
        this.reset();
        this.inc({ cap: 'address' }, conns.refusedPerAddress);
        this.inc({ cap: 'total' }, conns.refusedTotal - conns.refusedPerAddress);
        this.inc({ cap: 'evicted' }, conns.evicted);
      },
    });
  }
  return registry;
}
