import type { Logger } from 'pino';
import { icyValue } from '../../audio/icy.js';
import type { IcecastTarget } from '../../config/env.js';
import { delay, type RetryPolicy } from '../../kernel/retry.js';
import { displayTitle, type AudioSource, type NowPlaying } from '../../playout/now-playing.js';
import type { SourceMethod, StreamInfo } from './protocol.js';
import { handOver } from './handover.js';
import { IcecastSourceClient, type SourceClientOptions } from './source-client.js';
import { isGarbled, shownTitle, type MetadataTarget } from './metadata.js';

export interface IcecastOutputOptions {
  target: IcecastTarget;
  mount: string;
  method: SourceMethod;
  info: StreamInfo;
  /** Admin credentials: listeners are moved across a reconnect with them (see handOver). */
  admin?: { user: string; password: string } | undefined;
  /** The song's picture as an absolute URL (ICY StreamUrl); absent: none sent. */
  artUrl?: ((np: NowPlaying) => string | undefined) | undefined;
  retry: RetryPolicy;
  logger: Logger;
  userAgent: string;
}

function startsWith(data: Buffer, head: Buffer): boolean {
  return data.length >= head.length && data.subarray(0, head.length).equals(head);
}

/** Icecast puts titles into ICY blocks as given: `';` made harmless, and short enough for its request line. */
const MAX_ICECAST_TITLE = 255;
function forIcecast(title: string): string {
  const chars = [...icyValue(title)];
  return chars.length > MAX_ICECAST_TITLE ? `${chars.slice(0, MAX_ICECAST_TITLE - 1).join('')}…` : chars.join('');
}

/**
 * One channel on one Icecast server: the source connection and its titles.
 * A title (with the song's picture as StreamUrl) goes in-band with the
 * song's first audio (see SOURCE_METAINT), and again first thing after
 * every reconnect; nothing waits on an admin request.
 */
export class IcecastOutput {
  readonly client: IcecastSourceClient;
  private readonly clientOptions: SourceClientOptions;
  private readonly admin: Omit<MetadataTarget, 'mount'> | null;
  /** Titles put into the stream. */
  titlesSent = 0;

  private title: string | null = null;
  /** The one check of how Icecast shows a non-ASCII title, once started (tests await it). */
  charsetCheck: Promise<void> | null = null;
  private readonly meta: MetadataTarget;
  private readonly log: Logger;
  /** A new connection to Icecast: an Ogg stream's headers must go first. */
  private needHeaders = false;
  private readonly onAudio = (data: Buffer): void => {
    const headers = this.source.headers;
    if (this.needHeaders && headers && this.client.state === 'streaming') {
      this.needHeaders = false;
      if (!startsWith(data, headers)) this.client.write(headers);
    }
    this.client.write(data);
  };
  private readonly onTrack = (np: NowPlaying): void => {
    this.setTitle(displayTitle(np), this.artUrl?.(np));
    // A seam: where new station details are handed over, if any wait.
    const info = this.pendingInfo;
    if (info) {
      this.pendingInfo = null;
      void this.applyInfo(info);
    }
  };
  /** New station details, waiting for the next seam. */
  private pendingInfo: StreamInfo | null = null;
  private info: StreamInfo;
  private warnedNoAdmin = false;
  private readonly artUrl: IcecastOutputOptions['artUrl'];

  constructor(
    private readonly source: AudioSource,
    opts: IcecastOutputOptions,
  ) {
    this.log = opts.logger.child({ output: 'icecast', server: opts.target.server, mount: opts.mount });
    this.clientOptions = { ...opts, logger: opts.logger };
    this.client = new IcecastSourceClient(this.clientOptions);
    this.info = opts.info;
    this.admin = opts.admin
      ? { host: opts.target.host, port: opts.target.port, server: opts.target.server, user: opts.admin.user, password: opts.admin.password }
      : null;
    this.meta = {
      host: opts.target.host,
      port: opts.target.port,
      server: opts.target.server,
      mount: opts.mount,
      user: opts.admin?.user ?? opts.target.user,
      password: opts.admin?.password ?? opts.target.password,
    };
    this.artUrl = opts.artUrl;
    // A title first sent while off the air is checked once on air.
    this.client.on('connected', () => {
      this.needHeaders = true;
      if (this.title !== null) this.checkOnce(this.title);
    });
  }

  /** `host:port` of the Icecast server. */
  get server(): string {
    return this.meta.server;
  }

  start(): void {
    this.source.on('audio', this.onAudio);
    this.source.on('track', this.onTrack);
    if (this.source.nowPlaying) this.setTitle(displayTitle(this.source.nowPlaying), this.artUrl?.(this.source.nowPlaying));
    this.client.start();
  }

  private closing: Promise<void> | undefined;

  /** A second call returns the first's promise. */
  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    this.detach();
    await this.client.close();
  }

  destroy(): void {
    this.detach();
    this.client.destroy();
  }

  /**
   * The playlist's name, description, genre or url changed: Icecast takes
   * them at the next seam (see handOver). A no-op when nothing changed.
   */
  updateInfo(info: StreamInfo): void {
    if (JSON.stringify(info) === JSON.stringify(this.pendingInfo ?? this.info)) return;
    this.pendingInfo = info;
  }

  private async applyInfo(info: StreamInfo): Promise<void> {
    this.info = info;
    if (!this.admin && !this.warnedNoAdmin) {
      this.warnedNoAdmin = true;
      this.log.warn(
        'station details changed: reconnecting to Icecast, whose listeners must then reconnect (set ICECAST_ADMIN_USER and ICECAST_ADMIN_PASSWORD to move them across without a break)',
      );
    }
    const how = await handOver(
      { source: this.source, client: this.client, clientOptions: this.clientOptions, admin: this.admin, title: this.title, log: this.log },
      info,
    );
    this.log.info(
      { name: info.name, how },
      how === 'moved' ? 'station details updated on Icecast; listeners moved across the reconnect' : 'station details updated on Icecast (reconnected)',
    );
  }

  setTitle(title: string, url?: string): void {
    this.title = forIcecast(title);
    this.client.setMetadata(this.title, url);
    this.titlesSent += 1;
    this.checkOnce(this.title);
  }

  private checkOnce(title: string): void {
    if (!this.charsetCheck && this.client.state === 'streaming' && /[^\x00-\x7f]/.test(title)) this.charsetCheck = this.checkCharset(title);
  }

  /**
   * Once per output, with the first title that is not plain ASCII: does
   * Icecast show it as sent? A mount without <charset>UTF-8</charset> (as in
   * Debian's stock icecast.xml) reads titles as Latin-1 and shows Chinese
   * as mojibake or &#...; entities, and says nothing. This says it once.
   */
  private async checkCharset(sent: string): Promise<void> {
    // Icecast's stats thread publishes a new title within ~300 ms.
    let shown: string | null = null;
    for (let i = 0; i < 5 && (shown === null || !isGarbled(sent, shown)) && shown !== sent; i++) {
      await delay(300);
      shown = await shownTitle(this.meta);
    }
    if (shown === null || !isGarbled(sent, shown)) return;
    this.log.warn(
      { sent, shown },
      `Icecast ${this.meta.server} shows titles garbled on ${this.meta.mount}: add <charset>UTF-8</charset> to a <mount type="default"> (or to this mount's <mount>) in icecast.xml; sCast sends UTF-8`,
    );
  }

  private detach(): void {
    this.source.off('audio', this.onAudio);
    this.source.off('track', this.onTrack);
  }
}
