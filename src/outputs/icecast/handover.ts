import { once } from 'node:events';
import type { Logger } from 'pino';
import { reasonOf } from '../../kernel/errors.js';
import type { AudioSource } from '../../playout/now-playing.js';
import { delay } from '../../kernel/retry.js';
import { moveClients, mountStatus, type MetadataTarget } from './metadata.js';
import type { StreamInfo } from './protocol.js';
import { IcecastSourceClient, type SourceClientOptions } from './source-client.js';

export interface HandoverDeps {
  source: AudioSource;
  /** The mount's own connection. */
  client: IcecastSourceClient;
  /** What it was made with, to open the temporary one alike. */
  clientOptions: SourceClientOptions;
  /** Admin credentials (moveclients needs them); null: listeners cannot be moved. */
  admin: Omit<MetadataTarget, 'mount'> | null;
  /** The title on air, for the temporary mount's listeners. */
  title: string | null;
  log: Logger;
}

/** Poll Icecast's status until `ok` holds for the mount's entry, or `ms` pass. */
async function listed(admin: Omit<MetadataTarget, 'mount'>, mount: string, ok: (m: Record<string, unknown>) => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    const m = await mountStatus(admin, mount);
    if (m && ok(m)) return true;
    if (Date.now() > until) return false;
    await delay(100);
  }
}

/**
 * A listener plays Icecast's burst (64 KiB by default, ~4 s at 128 kbit/s)
 * behind the live edge, and a moved listener starts at the destination's
 * burst point: moving onto a mount with less behind it skips audio. So
 * listeners are moved only onto a mount that has been fed this much.
 */
const BURST_BYTES = 65_536 + 8192;

/** Resolve once `count()` reaches `bytes`, counting the source's audio from now. */
function fed(source: AudioSource, bytes: number, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let got = 0;
    const timer = setTimeout(() => {
      source.off('audio', onAudio);
      reject(new Error(`${bytes} bytes of audio were not sent within ${ms} ms`));
    }, ms);
    const onAudio = (d: Buffer): void => {
      got += d.length;
      if (got < bytes) return;
      clearTimeout(timer);
      source.off('audio', onAudio);
      resolve();
    };
    source.on('audio', onAudio);
  });
}

function timeout(ms: number, what: string): Promise<never> {
  return delay(ms).then(() => Promise.reject(new Error(`${what} did not happen within ${ms} ms`)));
}

/**
 * New station details reach Icecast only with a new source connection, and
 * Icecast 2.4 disconnects a source's listeners when it leaves. So, with
 * admin credentials: the same audio goes to a temporary mount, the
 * listeners are moved there (moveclients), the mount reconnects with the
 * new details, and they are moved back. They stay connected throughout and
 * hear the stream go on (it takes ~10 s: each mount is fed a burst's worth
 * before listeners move onto it). Without admin credentials the mount just
 * reconnects, and its Icecast listeners must reconnect.
 */
export async function handOver(d: HandoverDeps, info: StreamInfo): Promise<'moved' | 'reconnected'> {
  const { clientOptions: opts, admin } = d;
  if (!admin) {
    d.client.reconnect(info);
    return 'reconnected';
  }
  const tempMount = `${opts.mount}.scast-handover`;
  const temp = new IcecastSourceClient({ ...opts, mount: tempMount, info, logger: opts.logger });
  // The temporary mount's listeners see the song on air from its first block.
  if (d.title !== null) temp.setMetadata(d.title);
  const feed = (data: Buffer): void => {
    temp.write(data);
  };
  d.source.on('audio', feed);
  let moved = false;
  try {
    temp.start();
    await Promise.race([once(temp, 'connected'), timeout(3000, 'the temporary mount connecting')]);
    await fed(d.source, BURST_BYTES, 15_000);
    if (!(await listed(admin, tempMount, () => true, 2000))) throw new Error(`Icecast did not list ${tempMount}`);
    await moveClients(admin, opts.mount, tempMount);
    moved = true;
    const back = once(d.client, 'connected');
    d.client.reconnect(info);
    await Promise.race([back, timeout(5000, 'reconnecting with the new details')]);
    await fed(d.source, BURST_BYTES, 15_000);
    await listed(admin, opts.mount, (m) => m.server_name === info.name, 2000);
    await moveClients(admin, tempMount, opts.mount);
    moved = false;
    return 'moved';
  } catch (err) {
    d.log.warn({ err: reasonOf(err) }, 'moving listeners across a reconnect failed; reconnecting plainly');
    if (d.client.state === 'streaming') d.client.reconnect(info);
    if (moved) await moveClients(admin, tempMount, opts.mount).catch(() => undefined);
    return 'reconnected';
  } finally {
    d.source.off('audio', feed);
    await temp.close();
  }
}
