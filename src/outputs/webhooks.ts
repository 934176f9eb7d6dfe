/**
 * Webhooks: each channel's `webhooks` are told of song changes, live shows
 * and the channel going on or off air. Nothing here touches the audio path:
 * a channel's event only queues a message; each hook is delivered to in
 * order, retried with growing waits, and given up on with a warning and a
 * count in /metrics. Hooks reach only public addresses unless
 * MEDIA_ALLOW_HOSTS allows others, the same rule media downloads follow.
 */
import { EventEmitter, once } from 'node:events';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { mediaAgent } from '../acquire/fetch.js';
import type { AddressPolicy } from '../config/address-policy.js';
import type { Webhook } from '../config/playlist.js';
import { readCapped } from '../kernel/http-body.js';
import { BACKGROUND_TIMERS, type Timers } from '../kernel/lifecycle.js';
import { redactUrl } from '../kernel/redact.js';
import type { Channel } from '../playout/channel.js';
import type { LiveShowRecord } from '../playout/live-shows.js';
import type { NowPlaying } from '../playout/now-playing.js';
import type { Station } from '../playout/station.js';
import { discordMessage, news, signature, type WebhookEvent } from './webhook-payloads.js';
import type { ArtLinks } from './art-links.js';

export interface WebhookOptions {
  policy: AddressPolicy;
  /** Signs `json` payloads (WEBHOOK_SECRET); unset: they go unsigned. */
  secret?: string | undefined;
  /** The station's public base, for links in payloads. */
  publicUrl: () => string;
  /** Which picture stands for a song (absent: none is named). */
  art?: ArtLinks | undefined;
  logger: Logger;
  /** Waits before each retry, in ms: its length is how many retries. Default 2 s, 10 s, 1 min, 5 min. */
  retryMs?: readonly number[];
  /** One attempt's bound. Default 10 s. */
  timeoutMs?: number;
  /** Where `urlEnv` names are read. Default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  timers?: Timers;
}

/** Messages waiting for one hook at most; beyond, the oldest are dropped (a receiver down for hours). */
const QUEUE_MAX = 100;
const DEFAULT_RETRY_MS = [2000, 10_000, 60_000, 300_000];

interface Job {
  event: WebhookEvent;
  body: string;
  headers: Record<string, string>;
  attempt: number;
}

export interface HookStats {
  channel: string;
  /** The hook's place in the channel's list (its URL may hold a token, so it is not a label). */
  hook: string;
  delivered: number;
  failed: number;
  dropped: number;
  retries: number;
}

class Hook {
  readonly queue: Job[] = [];
  busy = false;
  cancel: (() => void) | null = null;
  constructor(readonly stats: HookStats) {}
}

/** A refusal no retry will change: the receiver said no (4xx), or the address is not allowed. */
class Permanent extends Error {}

export class Webhooks {
  private readonly hooks = new Map<string, Hook>();
  private readonly detach = new Map<Channel, () => void>();
  private readonly log: Logger;
  private readonly timers: Timers;
  private closed = false;
  private warnedUnsigned = false;
  /** 'change': a hook stopped sending (its queue is empty, or it waits to retry). */
  private readonly changes = new EventEmitter();

  constructor(
    station: Station,
    private readonly opts: WebhookOptions,
  ) {
    this.log = opts.logger.child({ component: 'webhooks' });
    this.timers = opts.timers ?? BACKGROUND_TIMERS;
    for (const c of station.channels) this.attach(c);
    station.on('channel-added', (c: Channel) => this.attach(c));
    station.on('channel-removed', (c: Channel) => {
      this.detach.get(c)?.();
      this.detach.delete(c);
    });
  }

  stats(): HookStats[] {
    return [...this.hooks.values()].map((h) => h.stats);
  }

  private attach(c: Channel): void {
    if (this.detach.has(c)) return;
    const onTrack = (np: NowPlaying): void => {
      if (np.source !== 'live') this.tell(c, 'song', np, null);
    };
    const onLive = (event: 'live-start' | 'live-end') => (show: LiveShowRecord) => this.tell(c, event, c.nowPlaying, show);
    const onStart = onLive('live-start');
    const onEnd = onLive('live-end');
    let on = false;
    const onStatus = (s: string): void => {
      if (s === 'on-air' && !on) this.tell(c, 'on-air', c.nowPlaying, null);
      else if ((s === 'closing' || s === 'closed') && on) this.tell(c, 'off-air', null, null);
      on = s === 'on-air';
    };
    if (c.status === 'on-air') on = true;
    c.on('track', onTrack);
    c.on('live-start', onStart);
    c.on('live-end', onEnd);
    c.on('status', onStatus);
    this.detach.set(c, () => {
      c.off('track', onTrack);
      c.off('live-start', onStart);
      c.off('live-end', onEnd);
      c.off('status', onStatus);
    });
  }

  /** Queue a message for every hook of the channel that wants this event. */
  private tell(c: Channel, event: WebhookEvent, np: NowPlaying | null, show: LiveShowRecord | null): void {
    if (this.closed) return;
    const hooks = c.playlist.webhooks;
    if (hooks.length === 0) return;
    const base = this.opts.publicUrl();
    const art = np && this.opts.art ? `${base}${this.opts.art.path(np, c.playlist)}` : null;
    const n = news(event, c.id, c.playlist, np, show, base, art);
    hooks.forEach((w, i) => {
      if (!w.events.includes(event)) return;
      const body = JSON.stringify(w.format === 'discord' ? discordMessage(n) : n);
      const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'sCast-webhook' };
      if (w.format === 'json') {
        headers['x-scast-event'] = event;
        if (this.opts.secret) headers['x-scast-signature'] = signature(this.opts.secret, body, Date.now());
        else if (!this.warnedUnsigned) {
          this.warnedUnsigned = true;
          this.log.warn('WEBHOOK_SECRET is not set: json webhooks go out unsigned, so receivers cannot tell them from forgeries');
        }
      }
      this.enqueue(this.hook(c.id, i), w, { event, body, headers, attempt: 0 });
    });
  }

  private hook(channel: string, i: number): Hook {
    const key = `${channel}#${i + 1}`;
    let h = this.hooks.get(key);
    if (!h) this.hooks.set(key, (h = new Hook({ channel, hook: String(i + 1), delivered: 0, failed: 0, dropped: 0, retries: 0 })));
    return h;
  }

  private enqueue(h: Hook, w: Webhook, job: Job): void {
    h.queue.push(job);
    if (h.queue.length > QUEUE_MAX) {
      h.queue.shift();
      h.stats.dropped += 1;
      this.log.warn({ channel: h.stats.channel, hook: h.stats.hook }, 'webhook: receiver far behind; oldest message dropped');
    }
    if (!h.busy) void this.drain(h, w);
  }

  /** Deliver a hook's queue in order; a failing message is retried before the next goes. */
  private async drain(h: Hook, w: Webhook): Promise<void> {
    h.busy = true;
    try {
      while (!this.closed && h.queue.length > 0) {
        const job = h.queue[0]!;
        const url = w.url ?? (this.opts.env ?? process.env)[w.urlEnv!];
        const where = { channel: h.stats.channel, hook: h.stats.hook, event: job.event };
        try {
          if (!url) throw new Permanent(`environment variable ${w.urlEnv} (urlEnv) is not set`);
          await this.post(url, job);
          h.queue.shift();
          h.stats.delivered += 1;
          this.log.info({ ...where, url: redactUrl(url) }, 'webhook delivered');
        } catch (err) {
          const reason = err instanceof Error ? err.message : String(err);
          const wait = (this.opts.retryMs ?? DEFAULT_RETRY_MS)[job.attempt];
          if (err instanceof Permanent || wait === undefined) {
            h.queue.shift();
            h.stats.failed += 1;
            this.log.warn({ ...where, url: url ? redactUrl(url) : null, err: reason, attempts: job.attempt + 1 }, 'webhook failed; message given up');
            continue;
          }
          job.attempt += 1;
          h.stats.retries += 1;
          const after = Math.max(wait, (err as { retryAfterMs?: number }).retryAfterMs ?? 0);
          this.log.info({ ...where, err: reason, retryInMs: after }, 'webhook attempt failed; retrying');
          const waited = new Promise<void>((resolve) => (h.cancel = this.timers.after(after, resolve)));
          this.changes.emit('change');
          await waited;
          h.cancel = null;
        }
      }
    } finally {
      h.busy = false;
      this.changes.emit('change');
    }
  }

  private async post(url: string, job: Job): Promise<void> {
    const { request } = await import('undici');
    const timeout = this.opts.timeoutMs ?? 10_000;
    let dispatcher: Dispatcher;
    try {
      dispatcher = await mediaAgent(this.opts.policy);
    } catch (err) {
      throw new Permanent(String(err));
    }
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method: 'POST',
        body: job.body,
        headers: job.headers,
        dispatcher,
        headersTimeout: timeout,
        bodyTimeout: timeout,
        signal: AbortSignal.timeout(timeout),
      });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'SCAST_ADDRESS_REFUSED') throw new Permanent((err as Error).message);
      throw err;
    }
    // Only its start is ever shown: a receiver answering without end costs no memory.
    const text = await readCapped(res.body, 64 * 1024, 'webhook receiver').catch(() => '');
    if (res.statusCode >= 200 && res.statusCode < 300) return;
    const said = `HTTP ${res.statusCode}${text ? `: ${text.slice(0, 200)}` : ''}`;
    if (res.statusCode === 429) {
      // Discord says how long to wait, in seconds, in its body; others in Retry-After.
      const body = safeJson(text) as { retry_after?: number } | null;
      const header = Number(res.headers['retry-after']);
      const seconds = typeof body?.retry_after === 'number' ? body.retry_after : Number.isFinite(header) ? header : 0;
      throw Object.assign(new Error(said), { retryAfterMs: Math.min(300, Math.max(0, seconds)) * 1000 });
    }
    if (res.statusCode >= 400 && res.statusCode < 500 && res.statusCode !== 408) throw new Permanent(said);
    throw new Error(said);
  }

  /** Resolves once no message is queued or being sent, or after `ms`. */
  async settled(ms: number): Promise<void> {
    const sending = (): boolean => [...this.hooks.values()].some((h) => h.busy && !h.cancel);
    if (!sending()) return;
    const timeout = AbortSignal.timeout(ms);
    while (sending() && !timeout.aborted) await once(this.changes, 'change', { signal: timeout }).catch(() => undefined);
  }

  /** Stop: what is queued is dropped, waits are cancelled. */
  close(): void {
    this.closed = true;
    for (const h of this.hooks.values()) {
      h.cancel?.();
      h.queue.length = 0;
    }
    for (const off of this.detach.values()) off();
    this.detach.clear();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
