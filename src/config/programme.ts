/**
 * A channel's programme, beyond its one list: station IDs between songs
 * (jingles), rotation rules, and dayparts (schedule blocks by weekday and
 * time of day). Schemas only; playout/sources/programme runs them.
 */
import * as z from 'zod';
import { WEEKDAYS, emptyWindow, windowSchema, type WeekWindow } from './week.js';

const displayName = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'at most 200 characters')
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'must not contain control characters or line breaks');

const every = z.union(
  [
    z.object({ songs: z.number().int('a whole number').min(1, 'at least 1 (0 would play nothing but jingles)').max(1000) }).strict(),
    z.object({ minutes: z.number().min(1, 'at least 1 minute').max(1440, 'at most 1440 minutes') }).strict(),
  ],
  { error: 'must be { "songs": N } or { "minutes": N }' },
);

/** Station IDs and jingles: their own list, played between songs. */
export const jinglesSchema = <T extends z.ZodType>(entries: T) =>
  z
    .object({
      tracks: entries,
      /** Between songs every N songs, or every N minutes (at the first seam after). */
      every: every.optional(),
      /** At the first seam after each full hour, in the channel's time zone. Default false. */
      topOfHour: z.boolean().default(false),
      /** Brought to the music's loudness like songs (true) or played at their own level, still under the ceiling (false). Default false. */
      normalize: z.boolean().default(false),
      /** Title shown while a jingle plays; default each jingle's own. */
      title: displayName.optional(),
      /** Default shuffle: a different ID each time, none twice in a row. */
      order: z.enum(['sequential', 'shuffle']).default('shuffle'),
    })
    .strict()
    .refine((j) => j.every !== undefined || j.topOfHour, {
      message: 'say when jingles play: "every" ({ "songs": N } or { "minutes": N }), "topOfHour": true, or both',
      path: ['every'],
    });

/** Rotation rules: relaxed, with a log line, when the list is too short to keep them. */
export const rulesSchema = z
  .object({
    /** No song again within this many minutes. */
    songRepeatMinutes: z.number().min(1, 'at least 1 minute').max(10_080, 'at most a week (10080)').optional(),
    /** No artist again within this many songs and/or minutes. */
    artistSeparation: z
      .object({
        songs: z.number().int('a whole number').min(1, 'at least 1').max(100, 'at most 100').optional(),
        minutes: z.number().min(1, 'at least 1 minute').max(1440, 'at most 1440 minutes').optional(),
      })
      .strict()
      .refine((a) => a.songs !== undefined || a.minutes !== undefined, 'give "songs", "minutes" or both')
      .optional(),
  })
  .strict();
export type Rules = z.output<typeof rulesSchema>;

/** One daypart: a list of its own on some weekdays, from a time to a time (past midnight when `to` is earlier). */
export const blockSchema = <T extends z.ZodType>(entries: T) =>
  z
    .object({
      /** Shown in the API and the feed; default "days from-to". */
      name: displayName.optional(),
      days: windowSchema.shape.days,
      from: windowSchema.shape.from,
      to: windowSchema.shape.to,
      tracks: entries,
      /** `soft`: at the first seam after `from`; `hard`: at `from` itself, the song on air fading out. Default soft. */
      start: z.enum(['soft', 'hard']).default('soft'),
      order: z.enum(['sequential', 'shuffle']).default('sequential'),
    })
    .strict()
    .refine((w) => !emptyWindow(w), { message: 'from and to are the same time: the block would be empty', path: ['to'] });

interface BlockLike extends WeekWindow {
  start: 'soft' | 'hard';
  name?: string | undefined;
}

const MINUTES_PER_WEEK = 7 * 1440;
const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** The spans of the week (minutes from Sunday 00:00, local) a window covers: one per day, split where it wraps past Saturday. */
export function weekSpans(w: WeekWindow): [number, number][] {
  const from = minutesOf(w.from);
  const to = minutesOf(w.to);
  const length = from < to ? to - from : 1440 - from + to;
  const spans: [number, number][] = [];
  for (const day of w.days) {
    const start = WEEKDAYS.indexOf(day) * 1440 + from;
    const end = start + length;
    if (end <= MINUTES_PER_WEEK) spans.push([start, end]);
    else spans.push([start, MINUTES_PER_WEEK], [0, end - MINUTES_PER_WEEK]);
  }
  return spans;
}

/** The first minute of the week both windows cover, or -1. */
function firstShared(a: [number, number][], b: [number, number][]): number {
  let first = -1;
  for (const [s1, e1] of a) {
    for (const [s2, e2] of b) {
      const s = Math.max(s1, s2);
      if (s < Math.min(e1, e2) && (first < 0 || s < first)) first = s;
    }
  }
  return first;
}

/** A block's name as shown: its own, else its days and times. */
export function blockName(b: BlockLike): string {
  return b.name ?? `${b.days.join(',')} ${b.from}-${b.to}`;
}

/**
 * Blocks may overlap only when both start softly (the one listed first
 * then wins): a hard block promises its start time, which another block
 * running at that time would break.
 */
export function checkSchedule(p: { schedule: readonly BlockLike[] }, ctx: z.RefinementCtx): void {
  // Spans, not a minute map per block: 200 blocks cost 200x200x14x14 comparisons at most, not 200x200x10080.
  const covered = p.schedule.map(weekSpans);
  for (let j = 0; j < p.schedule.length; j++) {
    for (let i = 0; i < j; i++) {
      const a = p.schedule[i]!;
      const b = p.schedule[j]!;
      if (a.start !== 'hard' && b.start !== 'hard') continue;
      const at = firstShared(covered[j]!, covered[i]!);
      if (at < 0) continue;
      const when = `${WEEKDAYS[Math.floor(at / 1440)]} ${String(Math.floor((at % 1440) / 60)).padStart(2, '0')}:${String(at % 60).padStart(2, '0')}`;
      ctx.addIssue({
        code: 'custom',
        path: ['schedule', j],
        message: `overlaps schedule[${i}] ("${blockName(a)}") from ${when}: blocks with a hard start may not overlap any other`,
      });
    }
  }
}

interface ListLike {
  order: 'sequential' | 'shuffle';
  tracks: readonly object[];
}

/** Weights choose among a list's sources song by song, which only a shuffled list can honour. */
export function checkWeights(p: ListLike & { schedule: readonly ListLike[]; jingles?: ListLike | undefined }, ctx: z.RefinementCtx): void {
  const lists: [PropertyKey[], ListLike][] = [
    [[], p],
    ...p.schedule.map((b, i): [PropertyKey[], ListLike] => [['schedule', i], b]),
    ...(p.jingles ? [[['jingles'], p.jingles] as [PropertyKey[], ListLike]] : []),
  ];
  for (const [where, list] of lists) {
    if (list.order === 'shuffle') continue;
    list.tracks.forEach((t, i) => {
      if ('weight' in t && t.weight !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [...where, 'tracks', i, 'weight'],
          message: 'weights need "order": "shuffle" on their list (a sequential list plays in its own order)',
        });
    });
  }
}
