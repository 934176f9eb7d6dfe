/**
 * The WebSocket feed's messages (`/ws`) and the channel view the HTTP API
 * shares with them. Exported so clients can validate what they receive;
 * README.md shows an example of each.
 */
import * as z from 'zod';

export const songViewSchema = z.object({
  title: z.string(),
  artist: z.string().nullable(),
  album: z.string().nullable(),
  /** The song's picture (its own, else its channel's, else the station's), an absolute URL. */
  coverUrl: z.string().nullable(),
  durationMs: z.number().nullable(),
});

export const nowPlayingViewSchema = songViewSchema.extend({
  /** The same picture as a path on this server (`/art/<id>.jpg`, 600 px; `-300.jpg` and `-96.jpg` are smaller). */
  art: z.string(),
  /** When the song's first audio went out to the outputs (ISO 8601). */
  startedAt: z.string(),
  /** Position in the song when this view was made. */
  elapsedMs: z.number(),
  /** The schedule block it plays in; null: the channel's own list. */
  block: z.string().nullable().optional(),
  /** True for a station ID or jingle. */
  jingle: z.boolean().optional(),
  /** True for a live show. */
  live: z.boolean().optional(),
  /** True for a song a listener asked for. */
  request: z.boolean().optional(),
  /**
   * Seconds into the channel's stream where its first frame is. A page
   * playing the built-in mount with `?sid=<id>` reads where its own stream
   * began (`GET /api/channels/<id>/listeners/<sid>`) and shows the song when
   * its audio element reaches `streamPos - start`: as the listener hears it.
   */
  streamPos: z.number().optional(),
});

/** A channel's programme: the schedule block on air and the next change. */
export const programmeViewSchema = z.object({
  /** The block on air; null: the channel's own list. */
  block: z.string().nullable(),
  /** The next change: the block that starts (null: the channel's own list) and when (ISO 8601); null when the channel has no schedule. */
  next: z.object({ block: z.string().nullable(), at: z.string() }).nullable(),
});

export const outputViewSchema = z.object({
  kind: z.enum(['icecast', 'builtin', 'rtmp']),
  /** `host:port` for Icecast outputs; the URL (without its key) for RTMP. */
  server: z.string().nullable(),
  connected: z.boolean(),
  status: z.string(),
  lastError: z.string().nullable(),
});

export const channelViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  mount: z.string(),
  description: z.string().nullable(),
  genre: z.string().nullable(),
  bitrate: z.number(),
  onAir: z.boolean(),
  /** The channel's own picture, as a path on this server. */
  art: z.string(),
  listen: z.object({ builtin: z.string().nullable(), icecast: z.array(z.string()), hls: z.string().nullable() }),
  /** The same stream in other formats, each on its own mount (see the playlist's `renditions`). */
  renditions: z.array(
    z.object({
      codec: z.enum(['mp3', 'aac', 'opus']),
      bitrate: z.number(),
      mount: z.string(),
      listen: z.object({ builtin: z.string().nullable(), icecast: z.array(z.string()) }),
      listeners: z.number(),
    }),
  ),
  nowPlaying: nowPlayingViewSchema.nullable(),
  next: songViewSchema.partial().extend({ title: z.string() }).nullable(),
  /** Listening now: the built-in output's plus Icecast's (read every minute). */
  listeners: z.number(),
  /** Of those, on Icecast. */
  listenersIcecast: z.number(),
  /** Distinct addresses among the built-in output's listeners. */
  listenersUnique: z.number(),
  outputs: z.array(outputViewSchema),
  /** The live show on air, when a DJ broadcasts into the channel. */
  live: z.object({ dj: z.string(), title: z.string(), startedAt: z.string() }).nullable(),
  programme: programmeViewSchema,
});
export type ChannelView = z.output<typeof channelViewSchema>;

export const snapshotMessageSchema = z.object({
  type: z.literal('snapshot'),
  at: z.string(),
  channels: z.array(channelViewSchema),
});

export const trackMessageSchema = z.object({
  type: z.literal('track'),
  at: z.string(),
  channel: z.string(),
  nowPlaying: nowPlayingViewSchema,
  next: channelViewSchema.shape.next,
});

export const statusMessageSchema = z.object({
  type: z.literal('status'),
  at: z.string(),
  channel: z.string(),
  /**
   * What changed: the channel went on/off air, an output lost/regained its
   * server or found its mount taken by another source (a hot spare), or the
   * channel fell into dead air (nothing audible for DEAD_AIR_SECONDS) and
   * came out of it.
   */
  event: z.enum(['on-air', 'off-air', 'output-connected', 'output-disconnected', 'output-spare', 'dead-air', 'audio-back', 'idle']),
  output: outputViewSchema.nullable(),
  /** With dead-air and audio-back: the song on air, if any. */
  song: z.string().nullable().optional(),
});

export const liveShowViewSchema = z.object({
  dj: z.string(),
  /** The show's name (from the DJ's client), else the DJ's. */
  title: z.string(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  seconds: z.number().nullable(),
  /** Why it ended (the DJ disconnected, dead air, ...). */
  end: z.string().nullable(),
  /** File name of its recording, when the channel records shows. */
  recording: z.string().nullable(),
  /** Set when the recording stopped before the show did (a full disk): the file holds only its start. */
  recordingError: z.string().nullable(),
});

/** A DJ's show went on air (`live-start`, as listeners hear its first audio) or left it (`live-end`, as the playlist's return is heard). */
export const liveMessageSchema = z.object({
  type: z.enum(['live-start', 'live-end']),
  at: z.string(),
  channel: z.string(),
  show: liveShowViewSchema,
});

/** Another schedule block went on air (as listeners hear its first song), with the next change. */
export const blockMessageSchema = z.object({
  type: z.literal('block'),
  at: z.string(),
  channel: z.string(),
  programme: programmeViewSchema,
});

export const serverMessageSchema = z.union([snapshotMessageSchema, trackMessageSchema, statusMessageSchema, liveMessageSchema, blockMessageSchema]);
export type ServerMessage = z.output<typeof serverMessageSchema>;
export type TrackMessage = z.output<typeof trackMessageSchema>;
export type StatusMessage = z.output<typeof statusMessageSchema>;
export type LiveMessage = z.output<typeof liveMessageSchema>;
