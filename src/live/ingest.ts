import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Channel } from '../playout/channel.js';
import type { Station } from '../playout/station.js';
import { Semaphore } from '../semaphore.js';
import { readDjFile, refusal, verifyPassword, type DjAccount } from './accounts.js';
import type { StreamInput } from '../media/ffmpeg-input.js';
import { Show, type ShowStatus } from './show.js';
import { SIGN_IN_LIMITS, SignInGuard } from './sign-in-guard.js';
import { acceptReply, inputFormatOf, parseSourceHead, refuseReply, type Credentials, type SourceHead } from './source-head.js';

/** Password checks at once (scrypt: ~50 ms of CPU and 16 MiB each); more wait, past a queue they are refused. */
const CHECKS_AT_ONCE = 2;
const CHECKS_QUEUED = 16;
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
  now?: () => number;
  clock?: () => Date;
}


/**
 * DJs broadcasting into channels: takes Icecast source connections (from the
 * front door), checks them as Icecast would (credentials 401, mount in use
 * 403, outside the DJ's hours 403, no audio type 403), decodes the audio,
 * and puts the show on the channel, which crossfades to it and back.
 * Credentials never reach a log line.
 */
export class LiveIngest {
  private readonly shows = new Map<string, Show>();
  private readonly checks = new Semaphore(CHECKS_AT_ONCE);
  private readonly signIns = new SignInGuard();
  private busyRefusals = 0;
  private busyLoggedAt = -Infinity;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly clock: () => Date;
  /** accepting --close()--> closed. */
  status: 'accepting' | 'closed' = 'accepting';

  constructor(private readonly opts: LiveIngestOptions) {
    this.log = opts.logger.child({ component: 'live' });
    this.now = opts.now ?? (() => performance.now());
    this.clock = opts.clock ?? (() => new Date());
  }


  /** A title update from the client of the DJ connected to `channel`, if `credentials` are theirs. */
  async retitle(channel: Channel, credentials: Credentials | null, title: string, address: string): Promise<'ok' | 'no-show' | 'denied'> {
    const show = this.shows.get(channel.id);
    if (!credentials || this.signIns.lockedFor(address) > 0) return 'denied';
    if (!show) return 'no-show';
    const ok = credentials.user === show.dj.user && this.checks.queued < CHECKS_QUEUED && (await this.checks.run(() => verifyPassword(credentials.password, show.dj.hash)));
    if (!ok) {
      this.signIns.failed(address);
      return 'denied';
    }
    show.retitle(title);
    return 'ok';
  }

  /** A connection whose first bytes were a source request (`first`, so far); `accepted` is told if the DJ is let in (the connection guard stops counting it as idle). */
  accept(socket: Socket, first: Buffer, accepted?: (socket: Socket) => void): void {
    if (this.status === 'closed') {
      socket.destroy();
      return;
    }
    let got: Buffer = first;
    const timer = setTimeout(() => refuse(400, 'the request head did not arrive in time'), this.opts.headTimeoutMs);
    const refuse = (status: 400 | 401 | 403 | 404 | 503, reason: string): void => {
      clearTimeout(timer);
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
      clearTimeout(timer);
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
    const address = from ?? '';
    const locked = this.signIns.lockedFor(address);
    // Refused before any check, and not logged again: the lock-out was.
    if (locked > 0) return void (!socket.destroyed && socket.end(refuseReply(403, `too many failed sign-ins from your address; try again in ${Math.ceil(locked / 1000)} s`)));
    const channel = this.opts.station.byMount(head.mount);
    if (!channel) return refuse(404, `no channel at mount ${head.mount}`);
    // libshout's first try carries no credentials: not a failure.
    if (!head.credentials) return refuse(401, 'You need to authenticate');
    if (this.checks.queued >= CHECKS_QUEUED) {
      // A flood of sign-ins is one log line per 10 s, not one per attempt.
      this.busyRefusals += 1;
      const t = this.now();
      if (t - this.busyLoggedAt >= 10_000) {
        this.log.warn({ refused: this.busyRefusals, lastFrom: address }, 'live: sign-ins refused (503): more than 16 waiting for a password check');
        this.busyLoggedAt = t;
        this.busyRefusals = 0;
      }
      return void (!socket.destroyed && socket.end(refuseReply(503, 'too many sign-ins at once; try again')));
    }
    // A DJ may be coming: the channel starts queueing less now, while the password is checked, so a takeover is heard sooner.
    channel.djComing(true);
    let started = false;
    try {
      const dj = await this.authenticate(head.credentials, address).catch((err: Error) => {
        this.log.error({ file: this.opts.djsFile, err: err.message }, 'live: DJ accounts file unreadable; every DJ is refused until it is fixed');
        return null;
      });
      if (socket.destroyed) return;
      if (dj === 'locked') return void socket.end(refuseReply(403, 'too many failed sign-ins from your address; try again later'));
      if (!dj) {
        if (this.signIns.failed(address)) this.log.warn({ from: address, lockSeconds: SIGN_IN_LIMITS.lockMs / 1000 }, `live: ${SIGN_IN_LIMITS.maxFailures} failed sign-ins from ${address}; its sign-ins are refused for ${SIGN_IN_LIMITS.lockMs / 1000} s`);
        return refuse(401, 'Authentication Required');
      }
      this.signIns.succeeded(address);
      const why = refusal(dj, channel.id, this.clock());
      if (why) return refuse(403, why, dj.user);
      const format = inputFormatOf(head.headers.get('content-type'));
      if (!format) return refuse(403, `Content-type not supported: ${JSON.stringify((head.headers.get('content-type') ?? 'none').slice(0, 60))} (send audio/mpeg, audio/aac or application/ogg)`, dj.user);
      const busy = this.shows.get(channel.id);
      if (busy && !channel.playlist.live.takeover) return refuse(403, `Mountpoint in use (DJ ${busy.dj.user} is live)`, dj.user);
      if (channel.status !== 'on-air') return refuse(503, 'the channel is not on air', dj.user);
      busy?.end(`replaced by DJ ${dj.user}`);
      socket.write(acceptReply(head.expectContinue));
      accepted?.(socket);
      started = true;
      this.start(dj, channel, socket, head, format, rest);
    } finally {
      // The show carries the count from here (it goes when the show goes on air, or ends).
      if (!started) channel.djComing(false);
    }
  }

  /** The account `c` signs in as, null if wrong, or 'locked' if its address was locked out while it waited its turn (no check is spent on it). */
  private async authenticate(c: Credentials, address: string): Promise<DjAccount | null | 'locked'> {
    const { djs } = await readDjFile(this.opts.djsFile);
    const dj = djs.find((d) => d.user === c.user);
    const ok = await this.checks.run(async () => (this.signIns.lockedFor(address) > 0 ? 'locked' : verifyPassword(c.password, dj?.hash ?? DUMMY_HASH)));
    if (ok === 'locked') return ok;
    return ok && dj ? dj : null;
  }

  private start(dj: DjAccount, channel: Channel, socket: Socket, head: SourceHead, format: StreamInput['format'], rest: Buffer): void {
    const show = new Show({ dj, channel, socket, format, rest, name: cleanTitle(head.headers.get('ice-name')), decoderPath: this.opts.decoderPath, sourceTimeoutMs: this.opts.sourceTimeoutMs, now: this.now, log: this.log.child({ channel: channel.id, dj: dj.user }) });
    this.shows.set(channel.id, show);
    show.on('status', (s: ShowStatus) => {
      if (s === 'ended' && this.shows.get(channel.id) === show) this.shows.delete(channel.id);
    });
    show.log.info({ from: socket.remoteAddress, format, name: show.name, client: head.headers.get('user-agent')?.slice(0, 80) }, `live: ${dj.user} connected to ${channel.id}`);
  }

  /** Take no more sources and end every show (the station stops). Idempotent. */
  async close(): Promise<void> {
    if (this.status === 'closed') return;
    this.status = 'closed';
    for (const show of this.shows.values()) show.end('the station is stopping');
  }
}

function cleanTitle(s: string | undefined): string | undefined {
  if (!s) return undefined;
  // Header values arrive as latin1 code points; clients send UTF-8 bytes.
  const text = Buffer.from(s, 'latin1').toString('utf8');
  return text.replace(/[\u0000-\u001f\u007f]/g, ' ').trim().slice(0, 200) || undefined;
}
