/**
 * AzuraCast's now-playing API shape (`Api_NowPlaying` in its published
 * OpenAPI document, web/static/openapi.yml), written out as zod so the
 * station's answers are checked against it and widgets, bots and apps
 * written for AzuraCast read sCast unchanged. Only what AzuraCast marks
 * required is required; optional song fields are given as null.
 */
import * as z from 'zod';

const int = z.number().int();

export const azSongSchema = z.object({
  /** AzuraCast: a 32-character hash of the song's metadata. */
  id: z.string().length(32),
  text: z.string(),
  artist: z.string().nullable(),
  title: z.string().nullable(),
  album: z.string().nullable(),
  genre: z.string().nullable(),
  isrc: z.string().nullable(),
  lyrics: z.string().nullable(),
  art: z.string(),
  custom_fields: z.array(z.string()),
});

export const azListenersSchema = z.object({ total: int, unique: int, current: int });

export const azMountSchema = z.object({
  id: int,
  name: z.string(),
  url: z.string(),
  bitrate: int.nullable(),
  format: z.string().nullable(),
  listeners: azListenersSchema,
  path: z.string(),
  is_default: z.boolean(),
});

export const azStationSchema = z.object({
  id: int,
  name: z.string(),
  shortcode: z.string(),
  description: z.string(),
  frontend: z.string(),
  backend: z.string(),
  timezone: z.string(),
  listen_url: z.string(),
  url: z.string().nullable(),
  public_player_url: z.string(),
  playlist_pls_url: z.string(),
  playlist_m3u_url: z.string(),
  is_public: z.boolean(),
  requests_enabled: z.boolean(),
  mounts: z.array(azMountSchema),
  remotes: z.array(azMountSchema.omit({ path: true, is_default: true })),
  hls_enabled: z.boolean(),
  hls_is_default: z.boolean(),
  hls_url: z.string().nullable(),
  hls_listeners: int,
});

export const azSongHistorySchema = z.object({
  sh_id: int,
  played_at: int,
  duration: int,
  playlist: z.string().nullable(),
  streamer: z.string().nullable(),
  is_request: z.boolean(),
  song: azSongSchema,
});

export const azCurrentSongSchema = azSongHistorySchema.extend({ elapsed: int, remaining: int });

export const azQueueSchema = z.object({
  cued_at: int,
  played_at: int.nullable(),
  duration: z.number(),
  playlist: z.string().nullable(),
  is_request: z.boolean(),
  song: azSongSchema,
});

export const azLiveSchema = z.object({
  is_live: z.boolean(),
  streamer_name: z.string(),
  broadcast_start: int.nullable(),
  art: z.string().nullable(),
});

export const azNowPlayingSchema = z.object({
  station: azStationSchema,
  listeners: azListenersSchema,
  live: azLiveSchema,
  now_playing: azCurrentSongSchema.nullable(),
  playing_next: azQueueSchema.nullable(),
  song_history: z.array(azSongHistorySchema),
  is_online: z.boolean(),
  cache: z.enum(['hit', 'database', 'station']).nullable(),
});
export type AzNowPlaying = z.output<typeof azNowPlayingSchema>;
export type AzStation = z.output<typeof azStationSchema>;
export type AzSong = z.output<typeof azSongSchema>;
