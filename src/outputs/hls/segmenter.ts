import { randomBytes } from 'node:crypto';
import { parseAdtsHeader } from '../../audio/adts.js';
import { id3Tag } from '../../audio/id3.js';
import type { AudioSource, NowPlaying } from '../../playout/now-playing.js';
import type { SegmentEntry } from './playlists.js';

export interface HlsSegment extends SegmentEntry {
  sequence: number;
  data: Buffer;
}

export interface SegmenterOptions {
  /** Seconds a segment aims at (it ends on the first frame boundary past it). */
  targetSeconds: number;
  /** Segments kept: those the playlist names and a few more for slow clients. */
  keep: number;
  /** Segments the media playlist names. */
  window: number;
  /** The song's picture, as an absolute URL (an ID3 WXXX frame). */
  artUrl?: ((np: NowPlaying) => string | undefined) | undefined;
  /** A segment is complete. */
  onSegment?: (segment: HlsSegment) => void;
}

/**
 * An AAC rendition cut into HLS packed-audio segments as it goes out, in
 * time with its listeners: whole ADTS frames, each segment opened by an ID3
 * tag giving its first sample's timestamp, and an ID3 tag with the title
 * (TIT2, TPE1) right before the frame where each song starts, which players
 * (hls.js, Safari) turn into a timed metadata cue at that frame.
 *
 * Segment names carry a session id: a restarted channel's segment 0 is not
 * the old one's, so segments can be cached for ever.
 */
export class HlsSegmenter {
  readonly session = randomBytes(4).toString('hex');
  readonly segments: HlsSegment[] = [];
  private parts: Buffer[] = [];
  private samples = 0;
  private startedAt = '';
  private nextSequence = 0;
  private pendingTitle: NowPlaying | null = null;
  /** The stream position of the first audio, and the samples in the segments cut since. */
  private firstPos: number | undefined;
  private samplesBefore = 0;
  private readonly onAudio = (data: Buffer, pos: number): void => this.push(data, pos);
  private readonly onTrack = (np: NowPlaying): void => {
    this.pendingTitle = np;
  };

  constructor(
    private readonly source: AudioSource,
    private readonly opts: SegmenterOptions,
  ) {
    source.on('audio', this.onAudio);
    source.on('track', this.onTrack);
  }

  /** The segments the media playlist names, and the sequence number of the first. */
  get live(): { segments: HlsSegment[]; firstSequence: number } {
    const segments = this.segments.slice(-this.opts.window);
    return { segments, firstSequence: segments[0]?.sequence ?? this.nextSequence };
  }

  segment(name: string): HlsSegment | undefined {
    return this.segments.find((s) => s.name === name);
  }

  close(): void {
    this.source.off('audio', this.onAudio);
    this.source.off('track', this.onTrack);
  }

  /** A tick's audio: whole ADTS frames. A segment ends on the first frame boundary past its target, mid-chunk if need be. */
  private push(data: Buffer, pos: number): void {
    const rate = sampleRateOf(data);
    const target = Math.ceil(this.opts.targetSeconds * rate);
    let rest = data;
    while (rest.length > 0) {
      this.open(pos, rate);
      const { bytes, samples } = adtsPrefix(rest, target - this.samples);
      this.parts.push(rest.subarray(0, bytes));
      this.samples += samples;
      rest = rest.subarray(bytes);
      if (this.samples >= target) this.cut(rate);
    }
  }

  /** Open a segment if none is open, else tag a title that came with this audio. */
  private open(pos: number, rate: number): void {
    if (this.parts.length === 0) {
      // The segment's first sample's time, and the title on air, so a player joining here has both. Time is
      // counted in samples from the first audio: the clock may skip a moment it waited for a late
      // encoder, but the frames themselves follow on without a gap, and so must their timestamps.
      this.firstPos ??= pos;
      const np = this.pendingTitle ?? this.source.nowPlaying;
      this.parts.push(id3Tag({ timestampSeconds: this.firstPos + this.samplesBefore / rate, ...this.titleFields(np) }));
      this.pendingTitle = null;
      this.startedAt = new Date().toISOString();
    } else if (this.pendingTitle) {
      this.parts.push(id3Tag(this.titleFields(this.pendingTitle)));
      this.pendingTitle = null;
    }
  }

  private titleFields(np: NowPlaying | null): { title?: string; artist?: string; url?: string } {
    if (!np) return {};
    const url = this.opts.artUrl?.(np);
    return { title: np.title, ...(np.artist ? { artist: np.artist } : {}), ...(url ? { url } : {}) };
  }

  private cut(rate: number): void {
    const sequence = this.nextSequence++;
    const segment: HlsSegment = {
      sequence,
      name: `${this.session}-${sequence}.aac`,
      data: Buffer.concat(this.parts),
      duration: this.samples / rate,
      startedAt: this.startedAt,
    };
    this.parts = [];
    this.samplesBefore += this.samples;
    this.samples = 0;
    this.segments.push(segment);
    if (this.segments.length > this.opts.keep) this.segments.shift();
    this.opts.onSegment?.(segment);
  }
}

/**
 * The shortest run of whole ADTS frames at the start of `data` holding at
 * least `want` samples (all of it if it holds fewer, or if a header does not parse).
 */
function adtsPrefix(data: Buffer, want: number): { bytes: number; samples: number } {
  let samples = 0;
  let at = 0;
  while (at + 7 <= data.length && samples < want) {
    const h = parseAdtsHeader(data, at);
    if (!h) return { bytes: data.length, samples };
    samples += h.samples;
    at += h.frameLength;
  }
  return { bytes: samples < want ? data.length : Math.min(at, data.length), samples };
}

function sampleRateOf(data: Buffer): number {
  return parseAdtsHeader(data, 0)?.sampleRate ?? 44100;
}
