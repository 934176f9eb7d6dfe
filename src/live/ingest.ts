import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { clientKey } from '../kernel/client-address.js';
import type { Channel } from '../playout/channel.js';
import type { Station } from '../playout/station.js';
import { DjAccountsFile, refusal, verifyPassword, type DjAccount } from './accounts.js';
import { CheckGate, type CheckBudget, type Refusal } from './check-gate.js';
import type { StreamInput } from '../ffmpeg/input.js';
import { Show, type ShowOptions, type ShowStatus } from './show.js';
import { REAL_CLOCK, type Clock } from '../kernel/lifecycle.js';
import { SIGN_IN_LIMITS, SignInGuard } from './sign-in-guard.js';
import { acceptReply, inputFormatOf, parseSourceHead, refuseReply, type Credentials, type SourceHead } from './source-head.js';

/** Checked in place of a missing account, so a wrong user costs the same time as a wrong password. */
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

export interface LiveIngestOptions {
  station: Station;
  djsFile: string;
  logger: Logger;
  /** ffmpeg to decode DJs' audio with (input from the network: the system build, with its security fixes). */
  decoderPath: string;
  /** A connection that sends nothing this long is dropped (Icecast's source-timeout). */
  sourceTimeoutMs: number;
  /** The request head must arrive within this. */
  headTimeoutMs: number;
  /** The password checks' budget (tests tighten it). */
  checks?: CheckBudget;
  /** Timers, time and the wall clock DJs' hours are read on. Default: the real ones. */
  clock?: Clock;
  /** A show's input. Default: a LiveInput (ffmpeg decoding the DJ's bytes). */
  openInput?: ShowOptions['openInput'];
}

/** A show on air, with a keyed digest of the password it signed in with: its client's title updates are checked against it without another scrypt. */
interface OnAir {
  show: Show;
  /** clientKey of the DJ's connection. */
  from: string;
  proof: Buffer;
}

/**
 * DJs broadcasting into channels: takes Icecast source connections (from the
 * front door), checks them as Icecast would (credentials 401, mount in use
 * 403, outside the DJ's hours 403, no audio type 403), decodes the audio,
 * and puts the show on the channel, which crossfades to it and back.
 * Credentials never reach a log line.
 *
 * Password checks are budgeted (CheckGate): refusals for load are 503 and
 * never count as failed sign-ins; failures are counted per address (IPv6
 * per /64, SignInGuard) and cleared only by a full admission to a channel.
 */
export class LiveIngest {
  private readonly shows = new Map<string, OnAir>();
  private readonly gate: CheckGate;
  private readonly signIns = new SignInGuard();
  private readonly accounts: DjAccountsFile;
  /** Keys the password digests of shows on air; new at each start, never stored. */
  private readonly proofKey = randomBytes(32);
  private busyRefusals = 0;
  private busyLoggedAt = -Infinity;
  private readonly log: Logger;
  private readonly clock: Clock;
  private closing: Promise<void> | undefined;
  /** accepting --close()--> closed. */
  status: 'accepting' | 'closed' = 'accepting';

  constructor(private readonly opts: LiveIngestOptions) {
    this.log = opts.logger.child({ component: 'live' });
    this.clock = opts.clock ?? REAL_CLOCK;
    this.gate = new CheckGate(opts.checks, () => this.clock.now());
    this.accounts = new DjAccountsFile(opts.djsFile, (err) =>
      this.log.error({ file: opts.djsFile, err: err.message }, 'live: DJ accounts file unreadable; every DJ is refused (503) until it is fixed'),
    );
  }

  /**
   * A title update for `channel`'s show, if `credentials` are its DJ's:
   * from the show's own address, checked against the digest of the
   * password it signed in with (no scrypt, never refused for load); from
   * elsewhere, a full password check within the budget.
   */
  async retitle(channel: Channel, credentials: Credentials | null, title: string, address: string): Promise<'ok' | 'no-show' | 'denied' | 'busy'> {
    const key = clientKey(address);
    const live = this.shows.get(channel.id);
    if (!credentials || this.signIns.lockedFor(key) > 0) return 'denied';
    if (!live) return 'no-show';
    let ok: boolean;
    if (key === live.from) {
      ok = credentials.user === live.show.dj.user && timingSafeEqual(this.proofOf(credentials.password), live.proof);
    } else {
      const ticket = this.gate.reserve(key, this.signIns.known(key) ? 'known' : 'other');
      if (typeof ticket === 'string') {
        this.noteBusy(ticket, address);
        return 'busy';
      }
      const hash = live.show.dj.hash;
      ok = await ticket.run(() => verifyPassword(credentials.password, hash));
      ok &&= credentials.user === live.show.dj.user;
    }
    if (!ok) {
      this.failed(key, address);
      return 'denied';
    }
    live.show.retitle(title);
    return 'ok';
  }
  /** A connection whose first bytes were a source request (`first`, so far); `accepted` is told if the DJ is let in (the connection guard stops counting it as idle). */
  accept(socket: Socket, first: Buffer, accepted?: (socket: Socket) => void): void {
    if (this.status === 'closed') {
      socket.destroy();
      return;
    }
    let got: Buffer = first;
    const cancelTimer = this.clock.after(this.opts.headTimeoutMs, () => refuse(400, 'the request head did not arrive in time'));
    const refuse = (status: 400 | 401 | 403 | 404 | 503, reason: string): void => {
      cancelTimer();
      socket.off('data', onData);
      if (!socket.destroyed) socket.end(refuseReply(status, reason));
      socket.destroySoon?.();
    };
    const onData = (chunk: Buffer): void => {
      got = Buffer.concat([got, chunk]);
      tryHead();
    };
    const tryHead = (): void => {
      const parsed = parseSourceHead(got);
      if (parsed.kind === 'more') return;
      cancelTimer();
      socket.off('data', onData);
      if (parsed.kind === 'bad') {
        this.log.info({ from: socket.remoteAddress, why: parsed.reason }, 'live: source request refused');
        refuse(400, parsed.reason);
        return;
      }
      socket.pause();
      void this.admit(socket, parsed.head, parsed.rest, accepted).catch((err: Error) => {
        this.log.error({ err: err.message }, 'live: source connection failed');
        refuse(503, 'internal error');
      });
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
    tryHead();
  }

  private async admit(socket: Socket, head: SourceHead, rest: Buffer, accepted?: (socket: Socket) => void): Promise<void> {
    const from = socket.remoteAddress;
    const refuse = (status: 400 | 401 | 403 | 404 | 503, reason: string, dj?: string): void => {
      this.log.info({ from, mount: head.mount, dj, status, why: reason }, `live: source refused (${status}): ${reason}`);
      if (!socket.destroyed) socket.end(refuseReply(status, reason));
    };
    const quietly = (status: 403 | 503, reason: string): void => void (!socket.destroyed && socket.end(refuseReply(status, reason)));
    const key = clientKey(from);
    const locked = this.signIns.lockedFor(key);
    // Refused before any check, and not logged again: the lock-out was.
    if (locked > 0) return quietly(403, `too many failed sign-ins from your address; try again in ${Math.ceil(locked / 1000)} s`);
    const channel = this.opts.station.byMount(head.mount);
    if (!channel) return refuse(404, `no channel at mount ${head.mount}`);
    // libshout's first try carries no credentials: not a failure.
    if (!head.credentials) return refuse(401, 'You need to authenticate');
    const ticket = this.gate.reserve(key, this.signIns.known(key) ? 'known' : 'other');
    // Load, not a wrong password: never counted against the address.
    if (typeof ticket === 'string') return void (this.noteBusy(ticket, from ?? ''), quietly(503, 'too many sign-ins at once; try again'));
    const accounts = await this.accounts.read();
    if (accounts instanceof Error) {
      ticket.release();
      return quietly(503, 'DJ accounts are unavailable on the station; try again later');
    }
    const c = head.credentials;
    const account = accounts.djs.find((d) => d.user === c.user);
    // The lock-out is looked at again when the check's turn comes: checks queued from an address locked meanwhile cost nothing.
    const ok = await ticket.run(async () => (this.signIns.lockedFor(key) > 0 ? 'locked' : verifyPassword(c.password, account?.hash ?? DUMMY_HASH)));
    if (socket.destroyed) return;
    if (ok === 'locked') return quietly(403, 'too many failed sign-ins from your address; try again later');
    if (!ok || !account) {
      this.failed(key, from ?? '');
      return refuse(401, 'Authentication Required');
    }
    const dj = account;
    const why = refusal(dj, channel.id, this.clock.date());
    if (why) return refuse(403, why, dj.user);
    const format = inputFormatOf(head.headers.get('content-type'));
    if (!format)
      return refuse(
        403,
        `Content-type not supported: ${JSON.stringify((head.headers.get('content-type') ?? 'none').slice(0, 60))} (send audio/mpeg, audio/aac or application/ogg)`,
        dj.user,
      );
    const busy = this.shows.get(channel.id);
    if (busy && !channel.playlist.live.takeover) return refuse(403, `Mountpoint in use (DJ ${busy.show.dj.user} is live)`, dj.user);
    if (channel.status !== 'on-air') return refuse(503, 'the channel is not on air', dj.user);
    // A DJ is coming (the password is right): the channel starts queueing less now, so the takeover is heard sooner.
    // Only now: a stranger's unchecked attempt must not change how the channel plays.
    channel.djComing(true);
    busy?.show.end(`replaced by DJ ${dj.user}`);
    socket.write(acceptReply(head.expectContinue));
    accepted?.(socket);
    // A full admission, the only thing that clears the address's failures.
    this.signIns.admitted(key);
    this.start(dj, channel, socket, head, format, rest, { from: key, proof: this.proofOf(c.password) });
  }

  private proofOf(password: string): Buffer {
    return createHmac('sha256', this.proofKey).update(password).digest();
  }

  private failed(key: string, from: string): void {
    if (this.signIns.failed(key))
      this.log.warn(
        { from, address: key, lockSeconds: SIGN_IN_LIMITS.lockMs / 1000 },
        `live: ${SIGN_IN_LIMITS.maxFailures} failed sign-ins from ${key}; its sign-ins are refused for ${SIGN_IN_LIMITS.lockMs / 1000} s`,
      );
  }

  /** A flood of sign-ins is one log line per 10 s, not one per attempt. */
  private noteBusy(why: Refusal, from: string): void {
    this.busyRefusals += 1;
    const t = this.clock.now();
    if (t - this.busyLoggedAt < 10_000) return;
    this.log.warn({ refused: this.busyRefusals, lastFrom: from, why }, 'live: sign-ins refused (503): over the password-check budget');
    this.busyLoggedAt = t;
    this.busyRefusals = 0;
  }

  private start(
    dj: DjAccount,
    channel: Channel,
    socket: Socket,
    head: SourceHead,
    format: StreamInput['format'],
    rest: Buffer,
    who: Omit<OnAir, 'show'>,
  ): void {
    const show = new Show({
      dj,
      channel,
      socket,
      format,
      rest,
      chunked: head.chunked,
      name: cleanTitle(head.headers.get('ice-name')),
      decoderPath: this.opts.decoderPath,
      sourceTimeoutMs: this.opts.sourceTimeoutMs,
      clock: this.clock,
      ...(this.opts.openInput ? { openInput: this.opts.openInput } : {}),
      log: this.log.child({ channel: channel.id, dj: dj.user }),
    });
    this.shows.set(channel.id, { show, ...who });
    show.on('status', (s: ShowStatus) => {
      if (s === 'ended' && this.shows.get(channel.id)?.show === show) this.shows.delete(channel.id);
    });
    show.log.info(
      { from: socket.remoteAddress, format, name: show.name, client: head.headers.get('user-agent')?.slice(0, 80) },
      `live: ${dj.user} connected to ${channel.id}`,
    );
    // Listened to first: the bytes that came with the head may end the show at once.
    show.start();
  }

  /** Take no more sources and end every show (the station stops). A second call returns the first's promise. */
  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    this.status = 'closed';
    for (const { show } of this.shows.values()) show.end('the station is stopping');
  }
}

function cleanTitle(s: string | undefined): string | undefined {
  if (!s) return undefined;
  // Header values arrive as latin1 code points; clients send UTF-8 bytes.
  const text = Buffer.from(s, 'latin1').toString('utf8');
  return (
    text
      .replace(/[\u0000-\u001f\u007f]/g, ' ')
      .trim()
      .slice(0, 200) || undefined
  );
}
