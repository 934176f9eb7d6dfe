import path from 'node:path';
import type { Logger } from 'pino';
import type { EncoderSpec } from './encoder.js';
import { PcmEncoder } from './encoder.js';
import { EncodingSession } from './encoding.js';
import { FrameStore } from './frame-store.js';
import type { EncodingCallbacks } from './renditions.js';
import { SplicingEncoding } from './splicing-encoding.js';

/** Bumped when what a take holds changes: older takes are then not found. */
const TAKE_FORMAT = 1;

/**
 * What encodes a channel's own MP3 stream: with `framesDir`, a splicing
 * encoding that sends each song's frames from its last play where they
 * hold (one store per bitrate and encoder); without, one continuous
 * encoder run.
 */
export function channelEncodings(opts: { encoder: EncoderSpec; framesDir: string | null; log: Logger }) {
  const stores = new Map<number, FrameStore>();
  const storeFor = (kbps: number, dir: string): FrameStore => {
    let store = stores.get(kbps);
    if (!store) {
      store = new FrameStore(
        dir,
        `v${TAKE_FORMAT} ${kbps}k ${opts.encoder.tool} ${path.basename(opts.encoder.path)} q3`,
        opts.log.child({ component: 'frames' }),
      );
      stores.set(kbps, store);
    }
    return store;
  };
  return (bitrateKbps: number, log: Logger, o: EncodingCallbacks) => {
    const encoderOpts = { outputBlockMs: o.outputBlockMs };
    if (!opts.framesDir) return new EncodingSession(opts.encoder, bitrateKbps, log, encoderOpts, o.onFrame, o.onFailed);
    return new SplicingEncoding({
      bitrateKbps,
      startEncoder: () => new PcmEncoder(opts.encoder, bitrateKbps, log, encoderOpts),
      store: storeFor(bitrateKbps, opts.framesDir),
      log,
      onFrame: o.onFrame,
      onFailed: o.onFailed,
    });
  };
}
