import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { clientKey } from '../kernel/client-address.js';

export interface ConnectionLimits {
  /** Open connections at most, across all clients; a function when it follows the station's own use of descriptors. */
  maxConnections: number | (() => number);
  /** Open connections at most from one address; 0: no per-address cap (behind a reverse proxy). */
  maxPerAddress: number;
  /**
   * Connections admitted over the cap for the rest of one event-loop turn, at most (an eighth of
   * the cap at most, 32 by default): the room a burst gets while the guard waits to see who is
   * idle. Descriptors it takes come from the station's reserve, for that turn only.
   */
  headroom?: number;
}

/** What the guard has seen, for /metrics and tests. */
export interface ConnectionStats {
  open: number;
  peak: number;
  refusedTotal: number;
  refusedPerAddress: number;
  /** Connections that had not sent a whole request yet, closed to make room for a newcomer. */
  evicted: number;
}

/**
 * The soft limit on open file descriptors (`ulimit -n`), as the kernel
 * reports it for this process; null where /proc is not there.
 */
export function descriptorLimit(limitsFile = '/proc/self/limits'): number | null {
  try {
    const line = readFileSync(limitsFile, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft && /^\d+$/.test(soft) ? Number(soft) : null;
  } catch {
    return null;
  }
}

/**
 * Descriptors one channel may hold at its busiest: the encoder's pipes, the
 * song on air and the one crossfading in, two prepared ahead (their files
 * held open, a probe and an analysis running), downloads, Icecast
 * connections, a live show's decoder and recording. Measured: 10 channels
 * of 20 s songs with 2 s crossfades held 56-91 descriptors in all (about
 * 20 of them the process's own), 4-7 a channel; downloads add 2 each.
 */
export const DESCRIPTORS_PER_CHANNEL = 24;

/** Descriptors the station keeps from clients: `base` for itself plus each channel's share. */
export function descriptorReserve(base: number, channels: number): number {
  return base + channels * DESCRIPTORS_PER_CHANNEL;
}

/**
 * The connection cap the station runs with: what the operator asked for, but
 * always `reserve` descriptors below the process's limit, so a flood of
 * connections can never take the descriptors ffmpeg, lame, downloads,
 * Icecast and playlist files need.
 */
export function effectiveConnectionCap(wanted: number, fdLimit: number | null, reserve: number): number {
  if (fdLimit === null) return wanted;
  return Math.max(1, Math.min(wanted, fdLimit - reserve));
}

/**
 * Counts every listening socket's connections (the HTTP port and LIVE_PORT
 * share one guard) as they are accepted and closes at once those over the
 * per-address cap, before a byte is read. At the station-wide cap, the
 * oldest connections that have not yet sent a whole request (idle or slow
 * clients: what a flood is made of) are closed to make room, so listeners,
 * the page and the operator's health checks still get in during a flood;
 * only when every connection is busy is the newcomer refused.
 *
 * Room is made at the end of the event-loop turn (`setImmediate`), not as
 * each newcomer is accepted: the loop accepts a burst of connections before
 * it reads what already-open ones have sent, so a health check accepted a
 * turn earlier, its request waiting in the same poll, looked idle and was
 * the first one closed. Until the turn ends the newcomers take up to
 * `headroom` places over the cap; past that they are refused.
 *
 * Refusals and evictions are logged at most once per `logEveryMs` (a flood
 * must not become a flood of log lines), with how many there were since
 * the last line.
 */
export class ConnectionGuard {
  readonly stats: ConnectionStats = { open: 0, peak: 0, refusedTotal: 0, refusedPerAddress: 0, evicted: 0 };
  private readonly perAddress = new Map<string, number>();
  /** Admitted connections that have not sent a whole request, oldest first. */
  private readonly waiting = new Set<Socket>();
  /** Connections holding a place, with the address they count against. */
  private readonly counted = new Map<Socket, string>();
  private refusedSinceLog = 0;
  private lastLog = 0;
  private sweepPending = false;

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly log: Logger,
    private readonly logEveryMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cap in force now. */
  get maxConnections(): number {
    const m = this.limits.maxConnections;
    return typeof m === 'number' ? m : m();
  }

  /** Count an HTTP server's connections. */
  attach(server: Server): void {
    server.on('connection', (socket: Socket) => this.admit(socket));
    const busy = (req: { socket: Socket }): void => this.busy(req.socket);
    server.on('request', busy);
    server.on('upgrade', busy);
  }

  /** The connection has made a whole request (or a DJ's source was accepted): no longer shed for a newcomer. */
  busy(socket: Socket): void {
    this.waiting.delete(socket);
  }

  /** Take a new connection in, or close it; true when admitted. */
  admit(socket: Socket): boolean {
    const key = clientKey(socket.remoteAddress);
    const fromHere = this.perAddress.get(key) ?? 0;
    if (this.limits.maxPerAddress > 0 && fromHere >= this.limits.maxPerAddress) {
      this.stats.refusedTotal += 1;
      this.stats.refusedPerAddress += 1;
      this.note('over the per-address connection cap', key);
      socket.destroy();
      return false;
    }
    const cap = this.maxConnections;
    if (this.stats.open >= cap) {
      const refusal =
        this.waiting.size === 0
          ? 'over the station-wide connection cap, every connection busy'
          : this.stats.open >= cap + this.headroom(cap)
            ? 'over the station-wide connection cap and its headroom this turn'
            : null;
      if (refusal !== null) {
        this.stats.refusedTotal += 1;
        this.note(refusal, key);
        socket.destroy();
        return false;
      }
      this.makeRoomSoon();
    }
    this.waiting.add(socket);
    this.stats.open += 1;
    this.stats.peak = Math.max(this.stats.peak, this.stats.open);
    this.perAddress.set(key, fromHere + 1);
    this.counted.set(socket, key);
    socket.once('close', () => this.release(socket));
    return true;
  }

  private headroom(cap: number): number {
    return Math.max(1, Math.min(this.limits.headroom ?? 32, Math.ceil(cap / 8)));
  }

  private makeRoomSoon(): void {
    if (this.sweepPending) return;
    this.sweepPending = true;
    setImmediate(() => {
      this.sweepPending = false;
      this.makeRoom();
    });
  }

  /**
   * After the turn's reads: close the oldest connections still without a whole request until the
   * count is back at the cap. Connections that became busy in the turn stay, even over the cap
   * (at most the headroom), until they close.
   */
  private makeRoom(): void {
    const cap = this.maxConnections;
    while (this.stats.open > cap) {
      const oldest = this.waiting.values().next().value;
      if (oldest === undefined) return;
      this.stats.evicted += 1;
      this.note('at the station-wide connection cap: the oldest idle connection closed for a new one', this.counted.get(oldest) ?? '');
      this.release(oldest);
      oldest.destroy();
    }
  }

  /** Give a connection's place back; once per connection. */
  private release(socket: Socket): void {
    const key = this.counted.get(socket);
    if (key === undefined) return;
    this.counted.delete(socket);
    this.waiting.delete(socket);
    this.stats.open -= 1;
    const left = (this.perAddress.get(key) ?? 1) - 1;
    if (left <= 0) this.perAddress.delete(key);
    else this.perAddress.set(key, left);
  }

  private note(what: string, address: string): void {
    this.refusedSinceLog += 1;
    const t = this.now();
    if (t - this.lastLog < this.logEveryMs) return;
    const { open, refusedTotal, evicted } = this.stats;
    this.log.warn(
      {
        sinceLastLine: this.refusedSinceLog,
        refusedTotal,
        evicted,
        lastAddress: address,
        open,
        maxConnections: this.maxConnections,
        maxPerAddress: this.limits.maxPerAddress,
      },
      `connections shed: ${what} (MAX_CONNECTIONS, MAX_CONNECTIONS_PER_ADDRESS)`,
    );
    this.lastLog = t;
    this.refusedSinceLog = 0;
  }
}
