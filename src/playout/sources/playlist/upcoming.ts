import type { Logger } from 'pino';
import type { Track } from '../../../config/playlist.js';
import type { Dealt } from './queue.js';
import { PcmDecoder } from '../../../decode/decoder.js';
import { cueSpan, describe, type MediaResolver, type PreparedMedia } from '../../../acquire/resolver.js';
import type { PcmFeed } from '../source.js';

/** A song being made ready: downloaded, probed, and its decoder started. */
export interface Slot {
  track: Track;
  /** Its entry in the playlist (see Dealt); null for a song asked for by hand. */
  entry: string | null;
  label: string;
  /** Asked for by hand (control API); survives playlist edits. */
  requested: boolean;
  state: SlotState;
  abort: AbortController;
  /** When preparation began (the channel's clock). */
  since: number;
}

/** Where a slot's preparation stands, with what it produced. */
export type SlotState = { is: 'preparing' } | { is: 'ready'; ready: Ready } | { is: 'failed'; error: unknown } | { is: 'cancelled' };

/** The slot's prepared song, if it has one. */
export function readyOf(slot: Slot): Ready | undefined {
  return slot.state.is === 'ready' ? slot.state.ready : undefined;
}

/**
 * A prepared song (the resolver's answer, its analysis possibly landing
 * later, until its decoder starts), with its playlist entry and decoder.
 */
export interface Ready extends PreparedMedia {
  /** The playlist entry, for its own cues. */
  track: Track;
  decoder: PcmFeed | null;
}

/** Which ffmpeg binary decodes a song of this codec. */
export type DecoderChoice = (codec: string | undefined, trusted: boolean) => string;

/** How many songs are prepared ahead of the one on air. */
const LOOKAHEAD = 2;
/**
 * A song still being prepared this long after it began is slow (a trickling
 * download): it no longer counts against LOOKAHEAD, so songs behind it are
 * prepared too, and one of them may play first.
 */
export const SLOW_AFTER_MS = 1500;
/** Songs in preparation at most per channel, slow ones included: bounds concurrent downloads. */
const MAX_SLOTS = 5;

/**
 * The songs after the current one, prepared while it plays, so a song that
 * takes seconds to fetch still starts on time. Order is play order.
 */
export class Upcoming {
  private slots: Slot[] = [];

  constructor(
    private readonly resolver: MediaResolver,
    private readonly decoderFor: DecoderChoice,
    private readonly log: Logger,
    private readonly now: () => number = () => performance.now(),
    private readonly openFeed?: (ready: Ready) => PcmFeed,
  ) {}

  get first(): Slot | undefined {
    return this.slots[0];
  }

  /**
   * Top up to LOOKAHEAD songs that are ready or on their way, drawn from
   * `draw` (null: nothing to draw now). Slow and failed ones do not count:
   * songs behind them are prepared meanwhile.
   */
  fill(draw: () => Dealt | null): void {
    const t = this.now();
    while (this.slots.length < MAX_SLOTS && this.slots.filter((s) => !isSlow(s, t) && s.state.is !== 'failed').length < LOOKAHEAD) {
      const dealt = draw();
      if (!dealt) return;
      this.slots.push(this.prepare(dealt.track, dealt.entry));
    }
  }

  /** Songs dealt from the playlist and not yet playing, in play order. */
  get dealt(): readonly Slot[] {
    return this.slots.filter((s) => s.entry !== null);
  }

  /** Give up the dealt songs from `keep` on (the playlist changed under them); requested ones stay. */
  dropDealt(keep: number): void {
    const dealt = this.dealt;
    const drop = new Set(dealt.slice(keep));
    for (const slot of drop) cancel(slot);
    this.slots = this.slots.filter((s) => !drop.has(s));
  }

  /**
   * The song to play now, taken out of line: the first one that is
   * prepared (ready or failed), passing over only slow ones. A download at
   * 1 byte a second never holds back a song that is ready; it plays when it
   * is ready, or fails on its own time-out. A song merely still being
   * prepared keeps its turn.
   */
  takePlayable(): Slot | undefined {
    const t = this.now();
    for (let i = 0; i < this.slots.length; i++) {
      const slot = this.slots[i]!;
      if (slot.state.is !== 'preparing') return this.slots.splice(i, 1)[0];
      if (!isSlow(slot, t)) return undefined;
    }
    return undefined;
  }

  /**
   * Start decoding the next song: its pipe fills and waits, so the seam has
   * audio at hand. Called a few seconds before the song on air ends, not at
   * once, so a channel runs two ffmpeg processes rather than four.
   */
  warmUp(): void {
    const ready = this.slots[0] && readyOf(this.slots[0]);
    if (ready) this.feedOf(ready);
  }

  /** The song's PCM: its decoder, started on first use. */
  feedOf(ready: Ready): PcmFeed {
    if (!ready.decoder) {
      if (this.openFeed) {
        ready.decoder = this.openFeed(ready);
        return ready.decoder;
      }
      // Cues as known now: a new channel's first song may start before its analysis is done.
      const { startSeconds, endSeconds } = cueSpan(ready.track, ready.analysis, ready.exactSeconds);
      ready.decoder = new PcmDecoder(this.decoderFor(ready.codec, ready.trusted), ready.path, {
        startSeconds,
        exactSeconds: endSeconds === null ? null : endSeconds - startSeconds,
      });
    }
    return ready.decoder;
  }

  /** Songs asked for by hand and not yet played. */
  get requestedCount(): number {
    return this.slots.filter((s) => s.requested).length;
  }

  /** Put a song first in line, after earlier requests. */
  request(track: Track): void {
    const at = this.slots.findIndex((s) => !s.requested);
    const slot = this.prepare(track, null);
    if (at < 0) this.slots.push(slot);
    else this.slots.splice(at, 0, slot);
  }

  /** A song handed out goes first in line again, prepared anew. */
  putBack(handedOut: Pick<Slot, 'track' | 'entry' | 'requested'>): void {
    const slot = this.prepare(handedOut.track, handedOut.entry);
    slot.requested = handedOut.requested;
    this.slots.unshift(slot);
  }

  /** Drop prepared songs (the playlist changed); requested ones stay if asked. */
  clear(opts: { keepRequested: boolean }): void {
    const keep: Slot[] = [];
    for (const slot of this.slots) {
      if (opts.keepRequested && slot.entry === null) keep.push(slot);
      else cancel(slot);
    }
    this.slots = keep;
  }

  private prepare(track: Track, entry: string | null): Slot {
    const slot: Slot = {
      track,
      entry,
      label: describe(track),
      requested: entry === null,
      state: { is: 'preparing' },
      abort: new AbortController(),
      since: this.now(),
    };
    this.resolver
      .prepare(track, slot.abort.signal)
      .then((media) => {
        if (slot.state.is === 'cancelled') {
          media.release();
          return;
        }
        slot.state = { is: 'ready', ready: { ...media, track, decoder: null } };
        this.log.debug({ song: slot.label }, 'song ready');
        // Its analysis, when it lands before the song starts decoding, sets its cues and gain.
        void media.analysing?.then((a) => {
          const ready = readyOf(slot);
          if (!a || !ready || ready.decoder) return;
          ready.analysis = a;
          const { startSeconds, endSeconds } = cueSpan(track, a, ready.exactSeconds);
          if (endSeconds !== null) ready.info.durationMs = Math.round((endSeconds - startSeconds) * 1000);
        });
      })
      .catch((err: unknown) => {
        if (slot.state.is === 'preparing') slot.state = { is: 'failed', error: err };
      });
    return slot;
  }
}

function isSlow(slot: Slot, now: number): boolean {
  return slot.state.is === 'preparing' && now - slot.since >= SLOW_AFTER_MS;
}

function cancel(slot: Slot): void {
  const ready = readyOf(slot);
  slot.state = { is: 'cancelled' };
  slot.abort.abort();
  if (ready) {
    ready.decoder?.destroy();
    ready.release();
  }
}
