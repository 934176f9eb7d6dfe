import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Logger } from 'pino';
import type { IcecastTarget } from '../../config/env.js';
import {
  IcecastAuthError,
  IcecastConnectionError,
  IcecastMountBusyError,
  IcecastRefusedError,
  IcecastWriteTimeoutError,
  ScastError,
  reasonOf,
} from '../../kernel/errors.js';
import { REAL_CLOCK, type Clock } from '../../kernel/lifecycle.js';
import type { RetryPolicy } from '../../kernel/retry.js';
import { buildSourceRequest, isOgg, ReplyParser, type IcecastReply, type SourceMethod, type StreamInfo } from './protocol.js';
import { IcyWriter } from '../../audio/icy.js';

/**
 * Audio bytes between in-band title blocks sent to Icecast (`icy-metaint`),
 * ~0.26 s at 128 kbit/s: a title lands within that of its song's first
 * audio. Icecast 2.4 takes titles this way with a `StreamUrl` (the cover
 * art), which its admin `updinfo` cannot carry; and a source sending both
 * gets malformed blocks from it, so titles go this way only.
 */
export const SOURCE_METAINT = 4096;

/** How often a hot spare asks for its mount again. */
const SPARE_RETRY_MS = 200;

/**
 * Lifecycle of one source connection:
 *
 *   idle --start()--> connecting --reply 100/2xx--> streaming
 *                        |  ^                           |
 *              failure   v  | retry timer     failure   |
 *                      waiting <------------------------+
 *   connecting --mount in use--> spare --retry: reply 100/2xx--> streaming
 *                                  ^  |  (stays spare while retrying)
 *                                  +--+ mount still in use
 *   any --close()--> closing --> closed       any --destroy()--> closed
 *
 * `spare`: another source has the mount (another streamer on the same
 * playlist: a hot spare). Not a fault; retried every 200 ms, so it is on
 * air at once when the mount frees up.
 */
export type SourceStatus =
  | { state: 'idle' }
  /** A handshake under way; `lastError` is why the previous attempt failed, if one did. */
  | { state: 'connecting'; attempt: number; lastError: ScastError | null }
  /** On air since `since` (the clock's ms), on the `connection`th successful handshake. */
  | { state: 'streaming'; since: number; connection: number }
  /** Off air after `lastError`; the next attempt is at `retryAt`. */
  | { state: 'waiting'; attempt: number; lastError: ScastError; retryAt: number }
  /** Another source has the mount; asking again every SPARE_RETRY_MS. */
  | { state: 'spare'; since: number }
  | { state: 'closing'; lastError: ScastError | null }
  | { state: 'closed'; lastError: ScastError | null };

export type SourceState = SourceStatus['state'];

export interface SourceClientEvents {
  status: [next: SourceStatus, prev: SourceStatus];
  connected: [{ downMs: number }];
  disconnected: [ScastError];
  closed: [];
}

export interface SourceClientOptions {
  target: IcecastTarget;
  mount: string;
  method: SourceMethod;
  info: StreamInfo;
  userAgent: string;
  retry: RetryPolicy;
  logger: Logger;
  /** Give up on a connect + handshake after this long. Default 5000. */
  handshakeTimeoutMs?: number;
  /** Icecast not reading for this long means it hangs: reconnect. Default 5000. */
  writeTimeoutMs?: number;
  /** Bytes queued in user space past which audio is dropped, not buffered. Default 256 KiB. */
  maxQueuedBytes?: number;
  /** Retry, handshake and drain timers, and the time stalls are measured on. Default: the real clock. */
  clock?: Clock;
}

/**
 * A self-healing Icecast source connection. It speaks the handshake, then
 * sends whatever `write()` is given while on air; off air, writes are
 * dropped, because the channel's clock keeps running and listeners should
 * hear the present, not a replay. Failures reconnect by the retry policy.
 */
export class IcecastSourceClient extends EventEmitter<SourceClientEvents> {
  status: SourceStatus = { state: 'idle' };
  /** Successful handshakes so far. */
  connections = 0;
  bytesSent = 0;

  private socket: net.Socket | null = null;
  private attempt = 0;
  private cancelRetry: (() => void) | null = null;
  private closing: Promise<void> | undefined;
  private readonly clock: Clock;
  private stalledSince: number | null = null;
  private downSince: number | null = null;
  private lastLoggedCode: string | null = null;
  private readonly log: Logger;

  /** Station details sent at the next handshake (Icecast reads ice-* headers only then). */
  private info: StreamInfo;
  /** A reconnect asked for (new details): a 'mount in use' meanwhile is the old connection not yet gone, not another source. */
  private handingOver = false;
  /** Interleaves title blocks into this connection's audio (see SOURCE_METAINT). */
  private icy: IcyWriter | null = null;
  private meta: { title: string; url?: string } | null = null;

  /** Why the last attempt or connection failed; null once on air again (and for a spare, which is no fault). */
  get lastError(): ScastError | null {
    const s = this.status;
    return 'lastError' in s ? s.lastError : null;
  }

  /** The status's name, for comparisons and views. */
  get state(): SourceState {
    return this.status.state;
  }

  constructor(private readonly opts: SourceClientOptions) {
    super();
    this.info = opts.info;
    this.clock = opts.clock ?? REAL_CLOCK;
    this.log = opts.logger.child({ output: 'icecast', server: opts.target.server, mount: opts.mount });
  }

  start(): void {
    if (this.state !== 'idle') return;
    this.downSince = this.clock.now();
    this.connect();
  }

  /** Send audio (whole MP3 frames). Returns false when it was dropped. */
  write(data: Buffer): boolean {
    const socket = this.socket;
    if (this.state !== 'streaming' || socket === null) return false;
    if (socket.writableLength > (this.opts.maxQueuedBytes ?? 256 * 1024)) {
      const since = this.stalledSince ?? this.clock.now();
      this.stalledSince = since;
      const timeout = this.opts.writeTimeoutMs ?? 5000;
      if (this.clock.now() - since >= timeout) {
        this.fail(new IcecastWriteTimeoutError(this.opts.target.server, this.opts.mount, timeout));
      }
      return false;
    }
    this.stalledSince = null;
    if (this.icy) for (const part of this.icy.write(data)) socket.write(part);
    else socket.write(data);
    this.bytesSent += data.length;
    return true;
  }

  /**
   * The title (and picture URL) listeners are shown from the next block on:
   * sent in the stream itself, so it lands with the audio it belongs to, and
   * again first thing on every new connection.
   */
  setMetadata(title: string, url?: string): void {
    this.meta = url === undefined ? { title } : { title, url };
    this.icy?.setTitle(title, url);
  }

  /**
   * Connect again with new station details, at once: the current connection
   * is ended cleanly and a new one made (Icecast takes a moment to free the
   * mount; that is retried quietly). Audio written meanwhile is dropped.
   */
  reconnect(info: StreamInfo): void {
    this.info = info;
    if (this.state !== 'streaming') return; // the next connection carries it anyway
    const old = this.socket;
    this.socket = null;
    this.handingOver = true;
    old?.end();
    this.connect();
  }

  /** Between sending the request and reading the reply (a spare asking again included). */
  private get handshaking(): boolean {
    return this.state === 'connecting' || (this.state === 'spare' && this.socket !== null);
  }

  /** Drain what is queued and end the connection cleanly. A second call returns the first's promise. */
  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    if (this.state === 'closed') return;
    this.clearRetry();
    // Mid-handshake there is no audio to drain: do not wait on a server that may never answer.
    if (this.handshaking) this.socket?.destroy();
    this.setStatus({ state: 'closing', lastError: this.lastError });
    const socket = this.socket;
    if (socket !== null && !socket.destroyed) {
      await new Promise<void>((resolve) => {
        const cancel = this.clock.after(2000, () => socket.destroy());
        socket.once('close', () => {
          cancel();
          resolve();
        });
        socket.end();
      });
    }
    this.socket = null;
    this.setStatus({ state: 'closed', lastError: this.lastError });
    this.emit('closed');
  }

  /** Abort at once. Idempotent. */
  destroy(): void {
    if (this.state === 'closed') return;
    this.clearRetry();
    this.socket?.destroy();
    this.socket = null;
    this.setStatus({ state: 'closed', lastError: this.lastError });
    this.emit('closed');
  }

  private connect(): void {
    const { target, mount } = this.opts;
    // A spare keeps saying so while it asks again.
    if (this.state !== 'spare') this.setStatus({ state: 'connecting', attempt: this.attempt + 1, lastError: this.lastError });
    let request: Buffer;
    try {
      request = buildSourceRequest({
        method: this.opts.method,
        mount,
        host: target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`,
        user: target.user,
        password: target.password,
        userAgent: this.opts.userAgent,
        info: this.info,
        metaint: isOgg(this.info) ? undefined : SOURCE_METAINT,
      });
    } catch (err) {
      this.fail(err instanceof ScastError ? err : new IcecastConnectionError(target.server, mount, reasonOf(err)));
      return;
    }
    const socket = net.connect({ host: target.host, port: target.port });
    this.socket = socket;
    socket.setNoDelay(true);
    const parser = new ReplyParser();
    const handshakeMs = this.opts.handshakeTimeoutMs ?? 5000;
    const cancelHandshake = this.clock.after(handshakeMs, () => {
      this.fail(new IcecastConnectionError(target.server, mount, `no reply within ${handshakeMs} ms`), socket);
    });

    socket.once('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      // After the handshake Icecast has nothing to say (2.4's trailing 200 included).
      if (this.socket !== socket || !this.handshaking) return;
      let reply: IcecastReply | null;
      try {
        reply = parser.push(chunk);
      } catch (err) {
        cancelHandshake();
        this.fail(new IcecastConnectionError(target.server, mount, reasonOf(err)), socket);
        return;
      }
      if (reply !== null) {
        cancelHandshake();
        this.onReply(reply, socket);
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      cancelHandshake();
      this.fail(new IcecastConnectionError(target.server, mount, err.code ?? err.message, { cause: err }), socket);
    });
    socket.on('close', () => {
      cancelHandshake();
      if (this.socket !== socket) return;
      if (this.handshaking) {
        const reply = parser.end();
        if (reply !== null && reply.verdict !== 'accepted') return this.onReply(reply, socket);
        this.fail(new IcecastConnectionError(target.server, mount, 'server closed the connection during the handshake'), socket);
      } else if (this.state === 'streaming') {
        this.fail(new IcecastConnectionError(target.server, mount, 'server closed the connection'), socket);
      }
    });
  }

  private onReply(reply: IcecastReply, socket: net.Socket): void {
    const { target, mount } = this.opts;
    switch (reply.verdict) {
      case 'accepted': {
        this.attempt = 0;
        this.connections += 1;
        this.lastLoggedCode = null;
        const downMs = this.downSince === null ? 0 : this.clock.now() - this.downSince;
        this.downSince = null;
        this.handingOver = false;
        // Blocks are counted from the first audio byte of each connection.
        this.icy = isOgg(this.info) ? null : new IcyWriter(SOURCE_METAINT);
        if (this.meta) this.icy?.setTitle(this.meta.title, this.meta.url);
        this.setStatus({ state: 'streaming', since: this.clock.now(), connection: this.connections });
        this.log.info({ status: reply.status, downMs, connections: this.connections }, 'on air');
        this.emit('connected', { downMs });
        return;
      }
      case 'auth':
        return this.fail(new IcecastAuthError(target.server, mount, target.user), socket);
      case 'busy':
        return this.fail(new IcecastMountBusyError(target.server, mount), socket);
      case 'limit':
      case 'refused':
        return this.fail(new IcecastRefusedError(target.server, mount, reply.status, reply.message), socket);
    }
  }

  /** Drop the connection and schedule the next attempt by the retry policy. */
  private fail(err: ScastError, socket: net.Socket | null = this.socket): void {
    if (socket !== this.socket) return; // a stale socket's late event
    if (this.state === 'closing' || this.state === 'closed') return;
    const wasStreaming = this.state === 'streaming';
    this.socket?.destroy();
    this.socket = null;
    this.stalledSince = null;
    if (wasStreaming) this.downSince = this.clock.now();
    this.attempt += 1;
    const busy = err instanceof IcecastMountBusyError && !this.handingOver;
    const freeing = err instanceof IcecastMountBusyError && this.handingOver;
    const wait = busy || freeing ? SPARE_RETRY_MS : this.opts.retry(this.attempt, err);
    // One line per kind of trouble, not one per attempt.
    const level = err instanceof IcecastAuthError ? 'error' : busy ? 'info' : 'warn';
    if (busy && this.state !== 'spare') {
      this.log.info(
        { err: { code: err.code, message: err.message } },
        `mount ${this.opts.mount} on Icecast ${this.opts.target.server} is in use by another source: standing by as a hot spare, on air as soon as it is free`,
      );
      this.lastLoggedCode = err.code;
    } else if (freeing) {
      this.log.debug('mount not free yet after our own reconnect; asking again');
    } else if (this.lastLoggedCode !== err.code || wasStreaming) {
      this.log[level]({ err: { code: err.code, message: err.message }, retryInMs: wait }, err.message);
      this.lastLoggedCode = err.code;
    } else {
      this.log.debug({ code: err.code, attempt: this.attempt, retryInMs: wait }, 'still failing');
    }
    // 'disconnected' goes out once the status says so: listeners read it (the feed's output view).
    if (wait === null) {
      this.setStatus({ state: 'closed', lastError: err });
      if (wasStreaming) this.emit('disconnected', err);
      this.emit('closed');
      return;
    }
    if (!busy) this.setStatus({ state: 'waiting', attempt: this.attempt, lastError: err, retryAt: this.clock.now() + wait });
    else if (this.state !== 'spare') this.setStatus({ state: 'spare', since: this.clock.now() });
    if (wasStreaming) this.emit('disconnected', err);
    this.cancelRetry = this.clock.after(wait, () => {
      this.cancelRetry = null;
      this.connect();
    });
  }

  private clearRetry(): void {
    this.cancelRetry?.();
    this.cancelRetry = null;
  }

  /** A new status; the event goes out when its state changes (not for new data in the same state). */
  private setStatus(next: SourceStatus): void {
    const prev = this.status;
    this.status = next;
    if (next.state !== prev.state) this.emit('status', next, prev);
  }
}
