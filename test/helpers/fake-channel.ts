/**
 * A real Channel with fake parts: fake songs, an encoder that passes PCM
 * through as frames (so what listeners would hear is checkable to the
 * sample), and a fake clock. No ffmpeg, no real time.
 */
import { pino } from 'pino';
import type { TrackInfo } from '../../src/acquire/track-info.js';
import { playlistSchema } from '../../src/config/playlist.js';
import { Channel } from '../../src/playout/channel.js';
import type { Encoding, StartEncoding } from '../../src/playout/encoder-keeper.js';
import type { FakeClock } from './fake-clock.js';
import { FakeSource, type fakeSong } from './fake-songs.js';

export const FRAME = 1152;

/** An "encoder" that passes PCM through as frames of 1152 samples, so the channel's output is checkable to the sample. */
export class PassThroughEncoding implements Encoding {
  fedSamples = 0;
  running = true;
  private pending = Buffer.alloc(0);
  private marks: { sample: number; info: TrackInfo }[] = [];
  private framesOut = 0;

  constructor(private readonly o: Parameters<StartEncoding>[0]) {}

  write(pcm: Buffer): void {
    if (!this.running) return;
    this.fedSamples += pcm.length / 4;
    this.pending = Buffer.concat([this.pending, pcm]);
    while (this.pending.length >= FRAME * 4) {
      const data = this.pending.subarray(0, FRAME * 4);
      this.pending = this.pending.subarray(FRAME * 4);
      const k = this.framesOut++;
      let marker: TrackInfo | undefined;
      while (this.marks.length > 0 && Math.floor(this.marks[0]!.sample / FRAME) <= k) marker = this.marks.shift()!.info;
      this.o.onFrame({ data: Buffer.from(data), samples: FRAME, marker });
    }
  }

  markSongStart(info: TrackInfo, delay: number): void {
    this.marks.push({ sample: this.fedSamples + delay, info });
  }

  fail(): void {
    this.running = false;
    this.o.onFailed(new Error('encoder died'));
  }

  destroyed = false;

  async close(): Promise<void> {
    this.running = false;
  }

  destroy(): void {
    this.running = false;
    this.destroyed = true;
  }
}

/** A channel on `clock` playing `songs`; `audio` gathers the left channel of what it sends, `titles` each title with the sample it came at. */
export function fakeChannel(clock: FakeClock, songs: ReturnType<typeof fakeSong>[], playlist: Record<string, unknown> = {}, id = 'test') {
  const source = new FakeSource(songs);
  const channel = new Channel({
    id,
    playlist: playlistSchema.parse({ name: 'Test', mount: `/${id}.mp3`, loudness: false, tracks: [], ...playlist }),
    source,
    startEncoding: (o) => new PassThroughEncoding(o),
    logger: pino({ level: 'silent' }),
    leadMs: 200,
    now: () => clock.now(),
    timers: clock,
    deadAirMs: 2000,
  });
  const audio: number[] = [];
  const titles: { key: string; atSample: number }[] = [];
  channel.on('audio', (b: Buffer) => {
    for (let i = 0; i < b.length; i += 4) audio.push(((b[i]! | (b[i + 1]! << 8)) << 16) >> 16);
  });
  channel.on('track', (np: TrackInfo) => titles.push({ key: np.key, atSample: audio.length }));
  return { channel, source, audio, titles };
}

/**
 * What a listener of a fake channel hears, kept as figures rather than every
 * sample (the crossfade sweeps hear minutes): the longest run of exact zeros,
 * and the last `tailSamples` samples of the left channel.
 */
export class Ear {
  longestZeroRun = 0;
  samples = 0;
  private zeros = 0;
  private readonly ring: Int16Array;

  constructor(tailSamples: number) {
    this.ring = new Int16Array(tailSamples);
  }

  hear(b: Buffer): void {
    const pcm = b.byteOffset % 2 === 0 ? new Int16Array(b.buffer, b.byteOffset, b.length >> 1) : new Int16Array(Uint8Array.from(b).buffer);
    const size = this.ring.length;
    for (let i = 0; i < pcm.length; i += 2) {
      const v = pcm[i]!;
      this.zeros = v === 0 ? this.zeros + 1 : 0;
      if (this.zeros > this.longestZeroRun) this.longestZeroRun = this.zeros;
      this.ring[this.samples % size] = v;
      this.samples += 1;
    }
  }

  /** How many of the last `n` samples heard are not `value`. */
  tailNot(value: number, n = this.ring.length): number {
    let wrong = 0;
    for (let k = 1; k <= n; k++) if (this.ring[(this.samples - k) % this.ring.length] !== value) wrong += 1;
    return wrong;
  }
}
