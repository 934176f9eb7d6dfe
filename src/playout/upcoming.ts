import type { Logger } from 'pino';
import type { Track } from '../config/playlist.js';
import { PcmDecoder } from '../media/decoder.js';
import { describe, type MediaResolver } from '../media/resolver.js';
import type { TrackInfo } from '../media/track-info.js';

/** A song being made ready: downloaded, probed, and its decoder started. */
export interface Slot {
  track: Track;
  label: string;
  /** Asked for by hand (control API); survives playlist edits. */
  requested: boolean;
  pending: boolean;
  ready?: Ready;
  error?: unknown;
  cancelled: boolean;
  abort: AbortController;
}

export interface Ready {
  info: TrackInfo;
  path: string;
  exactSeconds: number | null;
  codec: string | undefined;
  decoder: PcmDecoder | null;
  release(): void;
}

/** Which ffmpeg binary decodes a song of this codec. */
export type DecoderChoice = (codec: string | undefined) => string;

/** How many songs are prepared ahead of the one on air. */
const LOOKAHEAD = 2;

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
  ) {}

  get first(): Slot | undefined {
    return this.slots[0];
  }

  shift(): Slot | undefined {
    return this.slots.shift();
  }

  /** Top up to LOOKAHEAD songs drawn from `draw` (null: nothing to draw now). */
  fill(draw: () => Track | null): void {
    while (this.slots.length < LOOKAHEAD) {
      const track = draw();
      if (!track) return;
      this.slots.push(this.prepare(track, false));
    }
  }

  /**
   * Start decoding the next song: its pipe fills and waits, so the seam has
   * audio at hand. Called a few seconds before the song on air ends, not at
   * once, so a channel runs two ffmpeg processes rather than four.
   */
  warmUp(): void {
    const slot = this.slots[0];
    if (slot?.ready) this.decoderOf(slot.ready);
  }

  /** The song's decoder, started on first use. */
  decoderOf(ready: Ready): PcmDecoder {
    ready.decoder ??= new PcmDecoder(this.decoderFor(ready.codec), ready.path, { exactSeconds: ready.exactSeconds });
    return ready.decoder;
  }

  /** Put a song first in line, after earlier requests. */
  request(track: Track): void {
    const at = this.slots.findIndex((s) => !s.requested);
    const slot = this.prepare(track, true);
    if (at < 0) this.slots.push(slot);
    else this.slots.splice(at, 0, slot);
  }

  /** Drop prepared songs (the playlist changed); requested ones stay if asked. */
  clear(opts: { keepRequested: boolean }): void {
    const keep: Slot[] = [];
    for (const slot of this.slots) {
      if (opts.keepRequested && slot.requested) keep.push(slot);
      else cancel(slot);
    }
    this.slots = keep;
  }

  private prepare(track: Track, requested: boolean): Slot {
    const slot: Slot = { track, label: describe(track), requested, pending: true, cancelled: false, abort: new AbortController() };
    this.resolver
      .prepare(track, slot.abort.signal)
      .then((media) => {
        if (slot.cancelled) {
          media.release();
          return;
        }
        slot.ready = { info: media.info, path: media.path, exactSeconds: media.exactSeconds, codec: media.codec, decoder: null, release: media.release };
        this.log.debug({ song: slot.label }, 'song ready');
      })
      .catch((err: unknown) => {
        slot.error = err;
      })
      .finally(() => {
        slot.pending = false;
      });
    return slot;
  }
}

function cancel(slot: Slot): void {
  slot.cancelled = true;
  slot.abort.abort();
  if (slot.ready) {
    slot.ready.decoder?.destroy();
    slot.ready.release();
  }
}
