/**
 * The benchmarks' songs, shared by `npm run bench` and `npm run
 * bench:channels` so a scale figure is measured on the same audio as the
 * side-by-side one.
 *
 * tones: five 15 s steady tones (silence is then measurable; per-song costs
 * weigh 14x what they do in real life). music: five music-like songs of
 * 3.5 minutes (pink noise under a two-note chord with tremolo: broadband, as
 * costly to encode as music). Four AAC 44.1 kHz stereo, one AAC 48 kHz mono,
 * Chinese titles.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { makeTone } from '../../test/helpers/media.js';

export type SongKind = 'tones' | 'music';

export interface BenchSong {
  freq: number;
  title: string;
  artist: string;
  file: string;
  mono: boolean;
}

export function songKind(value: string): SongKind {
  if (value !== 'tones' && value !== 'music') throw new Error(`--songs: tones or music, not ${value}`);
  return value;
}

export async function makeBenchSongs(kind: SongKind, dir: string): Promise<BenchSong[]> {
  const songs = [300, 400, 500, 600, 700].map((freq, i) => ({
    freq,
    title: `测试歌曲${i + 1}`,
    artist: '基准',
    file: path.join(dir, `song${i + 1}.m4a`),
    mono: i === 4,
  }));
  for (const [i, s] of songs.entries()) {
    const rate = s.mono ? 48000 : 44100;
    const channels = s.mono ? 1 : 2;
    if (kind === 'music') makeMusicLike(s.file, i, rate, channels, s.title, s.artist);
    else
      await makeTone({
        file: s.file,
        freq: s.freq,
        seconds: 15,
        sampleRate: rate,
        channels,
        title: s.title,
        artist: s.artist,
        args: ['-c:a', 'aac', '-b:a', '128k'],
      });
  }
  return songs;
}

/** 3.5 minutes of pink noise under a two-note chord with a 2 Hz tremolo, as AAC 192k: broadband like music, different per song. */
function makeMusicLike(file: string, i: number, rate: number, channels: number, title: string, artist: string): void {
  const seconds = 210;
  execFileSync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-y'],
    ...['-f', 'lavfi', '-i', `anoisesrc=color=pink:amplitude=0.15:duration=${seconds}:seed=${i + 1}:sample_rate=${rate}`],
    ...['-f', 'lavfi', '-i', `sine=frequency=${220 + 30 * i}:duration=${seconds}:sample_rate=${rate}`],
    ...['-f', 'lavfi', '-i', `sine=frequency=${330 + 45 * i}:duration=${seconds}:sample_rate=${rate}`],
    ...['-filter_complex', '[1][2]amix=inputs=2,tremolo=f=2:d=0.6[c];[0][c]amix=inputs=2'],
    ...['-ac', String(channels), '-ar', String(rate), '-metadata', `title=${title}`, '-metadata', `artist=${artist}`],
    ...['-c:a', 'aac', '-b:a', '192k', file],
  ]);
}
