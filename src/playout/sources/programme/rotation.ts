import type { Rules } from '../../../config/programme.js';
import { trackKey, type Track } from '../../../config/playlist.js';

/** Songs remembered as aired: more than any separation asks for. */
const KEEP = 500;
/** Songs remembered as lined up, per list: a list deals two or three ahead. */
const KEEP_LINED_UP = 16;
/** Artists learnt from songs' tags, for songs whose entry does not name one (a folder's files). */
const MAX_KNOWN = 100_000;

interface Entry {
  key: string;
  artist: string | null;
  /** When it was lined up, then when it went on air. */
  at: number;
}

/**
 * Rotation rules over the music a channel plays (every list of its
 * programme; jingles are not counted): no song again within N minutes, no
 * artist again within M songs or minutes. Pure apart from the clock.
 *
 * A list's next song is checked against what went on air and then what
 * that list has lined up (dealt, prepared to play next), in that order: the
 * songs that will come before it. Songs another list lines up ahead (a
 * block due in a minute) do not count until they air.
 */
export class Rotation {
  private readonly aired: Entry[] = [];
  private readonly linedUp = new Map<object, Entry[]>();
  private readonly artists = new Map<string, string>();

  constructor(
    private rules: Rules | undefined,
    private readonly now: () => number,
  ) {}

  set(rules: Rules | undefined): void {
    this.rules = rules;
  }

  get active(): boolean {
    return this.rules !== undefined && (this.rules.songRepeatMinutes !== undefined || this.rules.artistSeparation !== undefined);
  }

  /** The rule `track` would break if `list` dealt it now, said for a log line; null when it breaks none. */
  breaks(track: Track, list: object): string | null {
    const rules = this.rules;
    if (!rules) return null;
    const t = this.now();
    const before = this.sequence(list);
    const key = trackKey(track);
    if (rules.songRepeatMinutes !== undefined) {
      const last = lastWhere(before, (r) => r.key === key);
      if (last && t - last.at < rules.songRepeatMinutes * 60_000) {
        return `song repeat: played ${minutes(t - last.at)} min ago (songRepeatMinutes ${rules.songRepeatMinutes})`;
      }
    }
    const sep = rules.artistSeparation;
    const artist = this.artistOf(track);
    if (sep && artist) {
      if (sep.songs !== undefined) {
        const back = before
          .slice(-sep.songs)
          .reverse()
          .findIndex((r) => r.artist === artist);
        if (back >= 0) return `artist separation: ${artist} played ${back + 1} song(s) ago (songs ${sep.songs})`;
      }
      if (sep.minutes !== undefined) {
        const last = lastWhere(before, (r) => r.artist === artist);
        if (last && t - last.at < sep.minutes * 60_000) return `artist separation: ${artist} played ${minutes(t - last.at)} min ago (minutes ${sep.minutes})`;
      }
    }
    return null;
  }

  /** `list` lined `track` up: it counts for that list's next songs from now. */
  dealt(track: Track, list: object): void {
    const lined = this.linedUp.get(list) ?? [];
    lined.push({ key: trackKey(track), artist: this.artistOf(track), at: this.now() });
    if (lined.length > KEEP_LINED_UP) lined.splice(0, lined.length - KEEP_LINED_UP);
    this.linedUp.set(list, lined);
  }

  /** `list` gave `track` back (a block ended, the list was edited): it is no longer lined up. */
  withdraw(track: Track, list: object): void {
    const lined = this.linedUp.get(list);
    const key = trackKey(track);
    const i = lined ? lined.map((e) => e.key).lastIndexOf(key) : -1;
    if (i >= 0) lined!.splice(i, 1);
  }

  /** A song went on air: it counts for every list, from now. */
  played(key: string): void {
    for (const lined of this.linedUp.values()) {
      const i = lined.findIndex((e) => e.key === key);
      if (i < 0) continue;
      const [e] = lined.splice(i, 1);
      this.aired.push({ ...e!, at: this.now() });
      if (this.aired.length > KEEP) this.aired.splice(0, this.aired.length - KEEP);
      return;
    }
  }

  /**
   * A song `list` lined up had its artist named by its tags as it was taken
   * (a folder's file names none): remembered for its entry from now on, and
   * checked against the songs around it, which were lined up without
   * knowing it. Returns the separation found broken, naming the song that
   * breaks it (the later of the two), if one is.
   */
  learn(track: Track, artist: string | undefined, list: object): { song: string; rule: string } | null {
    if (!artist || track.artist) return null;
    const key = trackKey(track);
    const name = normal(artist);
    if (this.artists.size >= MAX_KNOWN && !this.artists.has(key)) this.artists.delete(this.artists.keys().next().value!);
    this.artists.set(key, name);
    const seq = this.sequence(list);
    const at = seq.findIndex((e, i) => e.key === key && i >= this.aired.length);
    if (at < 0 || seq[at]!.artist !== null) return null;
    seq[at]!.artist = name;
    const sep = this.rules?.artistSeparation;
    if (!sep) return null;
    const span = sep.songs ?? 0;
    for (let i = Math.max(0, at - span); i <= Math.min(seq.length - 1, at + span); i++) {
      if (i === at || seq[i]!.artist !== name) continue;
      return { song: seq[Math.max(i, at)]!.key, rule: `artist separation: ${name} played ${Math.abs(i - at)} song(s) before (songs ${span})` };
    }
    if (sep.minutes !== undefined) {
      const near = seq.findIndex((r, i) => i !== at && r.artist === name && Math.abs(r.at - seq[at]!.at) < sep.minutes! * 60_000);
      if (near >= 0)
        return {
          song: seq[Math.max(near, at)]!.key,
          rule: `artist separation: ${name} played ${minutes(Math.abs(seq[near]!.at - seq[at]!.at))} min before (minutes ${sep.minutes})`,
        };
    }
    return null;
  }

  /** What comes before `list`'s next song: what aired, then what it has lined up (the same objects: `learn` edits them). */
  private sequence(list: object): Entry[] {
    return [...this.aired, ...(this.linedUp.get(list) ?? [])];
  }

  private artistOf(track: Track): string | null {
    return track.artist ? normal(track.artist) : (this.artists.get(trackKey(track)) ?? null);
  }
}

function lastWhere(entries: readonly Entry[], match: (e: Entry) => boolean): Entry | undefined {
  for (let i = entries.length - 1; i >= 0; i--) if (match(entries[i]!)) return entries[i];
  return undefined;
}

/** Artists compared as people write them: case and spacing aside. */
function normal(artist: string): string {
  return artist.trim().replace(/\s+/g, ' ').toLowerCase();
}

function minutes(ms: number): number {
  return Math.round(ms / 6000) / 10;
}
