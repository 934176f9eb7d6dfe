import { stat } from 'node:fs/promises';
import type { ProberChoice } from '../ffmpeg/binaries.js';
import { mp4AudioDuration } from './mp4-duration.js';
import { probeMedia, type MediaTags } from './probe.js';

export interface Probed {
  tags: MediaTags;
  /** Exact audio length from an MP4 edit list, when there is one. */
  exactSeconds: number | null;
}

/** Enough for a large library; an entry is a few hundred bytes. */
const MAX_ENTRIES = 20_000;

/**
 * Probe results remembered per file version (device and inode, size,
 * modification time: a download probed in the cache's tmp/ folder is the
 * same file once renamed into media/).
 * A probe is an ffmpeg process (10-50 ms of CPU); a looping
 * playlist, or many channels sharing songs, would otherwise pay it at every
 * play. Concurrent probes of one file share one process. Failures are not
 * remembered: a file that is fixed in place is tried again.
 */
export class ProbeMemo {
  private readonly entries = new Map<string, Promise<Probed>>();

  /** `binaries`: ffmpeg builds to try in order; a file one cannot read goes to the next. */
  constructor(private readonly binaries: ProberChoice) {
    if (binaries.trusted.length === 0 || binaries.untrusted.length === 0) throw new TypeError('ProbeMemo needs at least one ffmpeg binary');
  }

  async probe(file: string, trusted: boolean): Promise<Probed> {
    const st = await stat(file);
    const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${trusted}`;
    const known = this.entries.get(key);
    if (known) {
      // Map order is insertion order: re-insert to keep recently used entries last.
      this.entries.delete(key);
      this.entries.set(key, known);
      return known;
    }
    const running = this.run(file, trusted ? this.binaries.trusted : this.binaries.untrusted);
    this.entries.set(key, running);
    running.catch(() => this.entries.delete(key));
    if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    return running;
  }

  private async run(file: string, binaries: readonly string[]): Promise<Probed> {
    const tags = await this.probeTags(file, binaries);
    const exactSeconds = await mp4AudioDuration(file).catch(() => null);
    return { tags, exactSeconds };
  }

  /** The first build that reads the file wins; if none does, the last one's reason is reported. */
  private async probeTags(file: string, binaries: readonly string[]): Promise<MediaTags> {
    let failure: unknown;
    for (const binary of binaries) {
      try {
        return await probeMedia(binary, file);
      } catch (err) {
        failure = err;
      }
    }
    throw failure;
  }
}
