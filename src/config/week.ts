/**
 * Weekly time windows in a named time zone ("mon-fri 20:00-22:00, in
 * Europe/Berlin"): when a DJ may go live, and (later) when a programme block
 * runs. Pure: a date in, a yes or no out. Local wall-clock time is read
 * through Intl, so daylight-saving changes follow the zone's own rules.
 */
import * as z from 'zod';

const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'a time as HH:MM (00:00 to 24:00)');
/** A window starts within its day: "24:00" is the next day's 00:00. */
const startClock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "a start time as HH:MM (00:00 to 23:59; 24:00 is the next day's 00:00)");

/** Whether a window from `from` to `to` would be empty: both the same minute of the day (a start is never "24:00"; 00:00 to 24:00 is a whole day). */
export function emptyWindow(w: { from: string; to: string }): boolean {
  return minutesOf(w.from) === minutesOf(w.to);
}

/** Whether `tz` is an IANA zone name this runtime knows. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const timeZoneSchema = z.string().refine(isTimeZone, 'not a known IANA time zone (like "Europe/Berlin" or "UTC")');

/** From `from` to `to` on each of `days`; a window that ends before it starts runs past midnight into the next day. */
export const windowSchema = z
  .object({
    days: z.array(z.enum(WEEKDAYS)).min(1, 'at least one day').max(7),
    from: startClock,
    to: clock,
  })
  .strict()
  .refine((w) => !emptyWindow(w), { message: 'from and to are the same time: the window would be empty', path: ['to'] });
export type WeekWindow = z.infer<typeof windowSchema>;

/** Formatters by zone: building one costs far more than using it. */
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** Wall-clock fields of `date` in `tz`. */
export function wallClock(
  date: Date,
  tz: string,
): { year: number; month: number; day: number; weekday: Weekday; hour: number; minute: number; second: number } {
  const parts = formatter(tz).formatToParts(date);
  const get = (t: string): string => parts.find((p) => p.type === t)?.value ?? '';
  return {
    year: Number(get('year')),
    month: Number(get('month')),
    day: Number(get('day')),
    weekday: get('weekday').toLowerCase().slice(0, 3) as Weekday,
    hour: Number(get('hour')),
    minute: Number(get('minute')),
    second: Number(get('second')),
  };
}

/** The weekday and minute of the day at `date` in `tz`. */
export function localTime(date: Date, tz: string): { day: Weekday; minute: number } {
  const w = wallClock(date, tz);
  return { day: w.weekday, minute: w.hour * 60 + w.minute };
}

/** Milliseconds `tz` is ahead of UTC at instant `ms`. */
export function zoneOffsetMs(ms: number, tz: string): number {
  const w = wallClock(new Date(ms), tz);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant a wall-clock time happens in `tz` (month 1-12; day and minute
 * may overflow, as Date.UTC allows). A time skipped by a daylight-saving
 * change comes out as the same distance past the change.
 */
export function zonedEpoch(tz: string, year: number, month: number, day: number, minuteOfDay: number): number {
  const asUtc = Date.UTC(year, month - 1, day, 0, minuteOfDay);
  const first = asUtc - zoneOffsetMs(asUtc, tz);
  const second = asUtc - zoneOffsetMs(first, tz);
  return second;
}

/** Whether `date` falls inside any of `windows`, read in `tz`. */
export function inWindows(windows: readonly WeekWindow[], tz: string, date: Date): boolean {
  const local = localTime(date, tz);
  return windows.some((w) => inWindowAt(w, local));
}

/** Whether a local weekday and minute falls inside `w` (pure: the zone was read once, by the caller). */
export function inWindowAt(w: WeekWindow, local: { day: Weekday; minute: number }): boolean {
  const { day, minute } = local;
  const from = minutesOf(w.from);
  const to = minutesOf(w.to);
  if (from < to) return w.days.includes(day) && minute >= from && minute < to;
  // Past midnight: the evening part on the day named, the morning part on the day after.
  const yesterday = WEEKDAYS[(WEEKDAYS.indexOf(day) + 6) % 7]!;
  return (w.days.includes(day) && minute >= from) || (w.days.includes(yesterday) && minute < to);
}

/** "mon,tue 20:00-22:00" as a window (the command line's form); throws with the reason. */
export function parseWindow(text: string): WeekWindow {
  const m = /^([a-z,-]+)\s+(\d\d:\d\d)-(\d\d:\d\d)$/.exec(text.trim().toLowerCase());
  if (!m) throw new Error(`"${text}": a window is written like "mon,wed 20:00-22:00" or "mon-fri 07:00-10:00"`);
  const days: string[] = [];
  for (const part of m[1]!.split(',')) {
    const [a, b] = part.split('-');
    const i = WEEKDAYS.indexOf(a as Weekday);
    const j = b === undefined ? i : WEEKDAYS.indexOf(b as Weekday);
    if (i < 0 || j < 0) throw new Error(`"${part}": days are ${WEEKDAYS.join(', ')}`);
    for (let k = i; ; k = (k + 1) % 7) {
      days.push(WEEKDAYS[k]!);
      if (k === j) break;
    }
  }
  const parsed = windowSchema.safeParse({ days: [...new Set(days)], from: m[2], to: m[3] });
  if (!parsed.success) throw new Error(`"${text}": ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return parsed.data;
}

/** The window as the command line writes it. */
export function formatWindow(w: WeekWindow): string {
  return `${w.days.join(',')} ${w.from}-${w.to}`;
}
