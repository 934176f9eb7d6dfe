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
 * hold (one store for the station, its takes told apart by bitrate and
 * encoder); without, one continuous encoder run.
 */
export function channelEncodings(opts: { encoder: EncoderSpec; frames: { dir: string; maxBytes: number } | null; log: Logger }) {
  let store: FrameStore | null = null;
  return (bitrateKbps: number, log: Logger, o: EncodingCallbacks) => {
    const encoderOpts = { outputBlockMs: o.outputBlockMs };
    if (!opts.frames) return new EncodingSession(opts.encoder, bitrateKbps, log, encoderOpts, o.onFrame, o.onFailed);
    store ??= new FrameStore(opts.frames.dir, opts.frames.maxBytes, opts.log.child({ component: 'frames' }));
    return new SplicingEncoding({
      bitrateKbps,
      startEncoder: () => new PcmEncoder(opts.encoder, bitrateKbps, log, encoderOpts),
      store,
      variant: `v${TAKE_FORMAT} ${bitrateKbps}k ${opts.encoder.tool} ${path.basename(opts.encoder.path)} q3`,
      log,
      onFrame: o.onFrame,
      onFailed: o.onFailed,
    });
  };
}
