import type { Rules } from '../../../config/programme.js';
import { trackKey, type Track } from '../../../config/playlist.js';

/** Songs remembered for the rules: more than any separation asks for. */
const KEEP = 500;
/** Artists learnt from songs' tags, for songs whose entry does not name one (a folder's files). */
const MAX_KNOWN = 100_000;

/**
 * Rotation rules over the music a channel deals (every list of its
 * programme; jingles are not counted): no song again within N minutes, no
 * artist again within M songs or minutes. Pure apart from the clock. A song
 * counts from when it is dealt (prepared to play next), so the songs
 * already lined up are counted too, and then from when it goes on air.
 */
export class Rotation {
  private readonly recent: { key: string; artist: string | null; at: number }[] = [];
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

  /**
   * A dealt song's artist became known from its tags (a folder's file names
   * none): remembered for its entry from now on, and checked against the
   * songs dealt around it, which were lined up without knowing it. Returns
   * the separation found broken, naming the song that breaks it (the later
   * of the two), if one is.
   */
  learn(track: Track, artist: string | undefined): { song: string; rule: string } | null {
    if (!artist || track.artist) return null;
    const key = trackKey(track);
    const name = normal(artist);
    if (this.artists.size >= MAX_KNOWN && !this.artists.has(key)) this.artists.delete(this.artists.keys().next().value!);
    this.artists.set(key, name);
    let at = -1;
    for (let i = this.recent.length - 1; i >= 0; i--) {
      if (this.recent[i]!.key === key) {
        at = i;
        break;
      }
    }
    if (at < 0 || this.recent[at]!.artist !== null) return null;
    this.recent[at]!.artist = name;
    const sep = this.rules?.artistSeparation;
    if (!sep) return null;
    // Within the separation before it (it breaks it), or after it (the later song does).
    const span = sep.songs ?? 0;
    for (let i = Math.max(0, at - span); i <= Math.min(this.recent.length - 1, at + span); i++) {
      if (i === at || this.recent[i]!.artist !== name) continue;
      const later = this.recent[Math.max(i, at)]!;
      return { song: later.key, rule: `artist separation: ${name} played ${Math.abs(i - at)} song(s) before (songs ${span})` };
    }
    if (sep.minutes !== undefined) {
      const near = this.recent.findIndex((r, i) => i !== at && r.artist === name && Math.abs(r.at - this.recent[at]!.at) < sep.minutes! * 60_000);
      if (near >= 0) {
        const later = this.recent[Math.max(near, at)]!;
        return { song: later.key, rule: `artist separation: ${name} played ${minutes(Math.abs(this.recent[near]!.at - this.recent[at]!.at))} min before (minutes ${sep.minutes})` };
      }
    }
    return null;
  }

  /** The rule `track` would break if dealt now, said for a log line; null when it breaks none. */
  breaks(track: Track): string | null {
    const rules = this.rules;
    if (!rules) return null;
    const t = this.now();
    const key = trackKey(track);
    if (rules.songRepeatMinutes !== undefined) {
      const last = this.lastWhere((r) => r.key === key);
      if (last && t - last.at < rules.songRepeatMinutes * 60_000) {
        return `song repeat: played ${minutes(t - last.at)} min ago (songRepeatMinutes ${rules.songRepeatMinutes})`;
      }
    }
    const sep = rules.artistSeparation;
    const artist = this.artistOf(track);
    if (sep && artist) {
      if (sep.songs !== undefined) {
        const back = this.recent.slice(-sep.songs).reverse().findIndex((r) => r.artist === artist);
        if (back >= 0) return `artist separation: ${artist} played ${back + 1} song(s) ago (songs ${sep.songs})`;
      }
      if (sep.minutes !== undefined) {
        const last = this.lastWhere((r) => r.artist === artist);
        if (last && t - last.at < sep.minutes * 60_000) return `artist separation: ${artist} played ${minutes(t - last.at)} min ago (minutes ${sep.minutes})`;
      }
    }
    return null;
  }

  /** A song went on air: it counts from now (dealt songs air a song or two later). */
  played(key: string): void {
    for (let i = this.recent.length - 1; i >= 0; i--) {
      if (this.recent[i]!.key !== key) continue;
      this.recent[i]!.at = this.now();
      return;
    }
  }

  /** `track` was dealt: it counts from now. */
  dealt(track: Track): void {
    this.recent.push({ key: trackKey(track), artist: this.artistOf(track), at: this.now() });
    if (this.recent.length > KEEP) this.recent.splice(0, this.recent.length - KEEP);
  }

  private artistOf(track: Track): string | null {
    return track.artist ? normal(track.artist) : (this.artists.get(trackKey(track)) ?? null);
  }

  private lastWhere(match: (r: { key: string; artist: string | null }) => boolean): { at: number } | undefined {
    for (let i = this.recent.length - 1; i >= 0; i--) if (match(this.recent[i]!)) return this.recent[i];
    return undefined;
  }
}

/** Artists compared as people write them: case and spacing aside. */
function normal(artist: string): string {
  return artist.trim().replace(/\s+/g, ' ').toLowerCase();
}

function minutes(ms: number): number {
  return Math.round(ms / 6000) / 10;
}
