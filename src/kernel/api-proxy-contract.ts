/**
 * The api-proxy's HTTP contract, shared by the proxy (which validates what it
 * answers) and the streamer (which validates what it receives).
 * Versioned by path: /v1/<provider>/...
 */
import * as z from 'zod';

export const SONG_MID = /^[0-9A-Za-z]{1,32}$/;
export const PLAYLIST_ID = /^[0-9]{1,20}$/;

export const qualitySchema = z.enum(['C400', 'C600', 'M500', 'M800', 'F000']);
export type Quality = z.output<typeof qualitySchema>;
/** File extension for each quality prefix. */
export const QUALITY_EXT: Record<Quality, string> = { C400: 'm4a', C600: 'm4a', M500: 'mp3', M800: 'mp3', F000: 'flac' };

export const artistSchema = z.object({ mid: z.string(), name: z.string() });

export const songSchema = z.object({
  mid: z.string(),
  title: z.string(),
  artists: z.array(artistSchema),
  album: z.object({ mid: z.string(), name: z.string() }).nullable(),
  /** 500x500 cover (album art, else the first singer's photo). */
  coverUrl: z.string().nullable(),
  durationMs: z.number().int().nonnegative().nullable(),
  /** Media file id; differs from the songmid for some paid songs. */
  mediaMid: z.string().nullable(),
  /** False when the service says it cannot be played without paying (VIP-only, `pay.pay_play`). Default true. */
  playable: z.boolean().default(true),
  /** Qualities the service has a file of (its `file.size_*` above 0); empty: it did not say. */
  qualities: z.array(qualitySchema).default([]),
});
export type Song = z.output<typeof songSchema>;

export const songUrlSchema = z.object({
  mid: z.string(),
  quality: qualitySchema,
  url: z.string().url(),
  /** When the play URL stops working (ISO 8601). */
  expiresAt: z.string(),
});
export type SongUrl = z.output<typeof songUrlSchema>;

export const playlistSchema = z.object({
  id: z.string(),
  title: z.string(),
  total: z.number().int().nonnegative(),
  songs: z.array(songSchema),
});
export type QqPlaylist = z.output<typeof playlistSchema>;

export const searchSchema = z.object({ query: z.string(), songs: z.array(songSchema) });

export const errorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});
