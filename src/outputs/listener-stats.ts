/**
 * Listener figures per channel: the built-in output's count and Icecast's
 * own (read from each server's public status-json.xsl), sampled every
 * minute and kept for 24 hours in a small file, so a restart keeps the
 * day's curve. Read by the API, /metrics and the page's chart.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import * as z from 'zod';
import type { IcecastTarget } from '../config/env.js';
import { BACKGROUND_TIMERS, type Timers } from '../kernel/lifecycle.js';
import type { Station } from '../playout/station.js';
import type { OutputSet } from './output-set.js';

export const STEP_MS = 60_000;
const KEEP_MS = 24 * 3_600_000;

/** One minute's figures: when, built-in listeners, Icecast listeners (all servers). */
export type Point = [at: number, builtin: number, icecast: number];

const fileSchema = z.object({ version: z.literal(1), channels: z.record(z.string(), z.array(z.tuple([z.number(), z.number(), z.number()]))) });

export interface ListenerStatsOptions {
  station: Station;
  outputs: OutputSet;
  icecast: readonly IcecastTarget[];
  /** Where the last 24 h are kept across restarts; null: memory only. */
  file: string | null;
  logger: Logger;
  timers?: Timers;
  now?: () => number;
  /** Reads one Icecast server's listener counts by mount; default: its status-json.xsl. */
  readIcecast?: (target: IcecastTarget) => Promise<Map<string, number>>;
}

export class ListenerStats {
  private readonly points = new Map<string, Point[]>();
  /** Icecast's latest counts: server -> mount -> listeners. */
  private icecast = new Map<string, Map<string, number>>();
  private stop: (() => void) | null = null;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(private readonly opts: ListenerStatsOptions) {
    this.log = opts.logger.child({ component: 'listeners' });
    this.now = opts.now ?? Date.now;
  }

  async start(): Promise<void> {
    if (this.opts.file) await this.load(this.opts.file);
    await this.sample();
    this.stop = (this.opts.timers ?? BACKGROUND_TIMERS).every(STEP_MS, () => void this.sample());
  }

  close(): void {
    this.stop?.();
    this.stop = null;
  }

  /** Listeners on Icecast for a channel now (every server), from the last read. */
  icecastNow(mount: string): number {
    let n = 0;
    for (const counts of this.icecast.values()) n += counts.get(mount) ?? 0;
    return n;
  }

  /** Listeners on the i-th Icecast server (ICECAST_URL's order) for a mount, from the last read. */
  icecastAt(i: number, mount: string): number {
    const t = this.opts.icecast[i];
    return (t && this.icecast.get(t.server)?.get(mount)) ?? 0;
  }

  /** The channel's figures: now, the 24 h peak, and the minute points. */
  of(id: string, mount: string, builtinNow: number): { current: number; builtin: number; icecast: number; peak24h: number; points: Point[] } {
    const points = this.window(id);
    const icecast = this.icecastNow(mount);
    const current = builtinNow + icecast;
    const peak24h = Math.max(current, ...points.map((p) => p[1] + p[2]));
    return { current, builtin: builtinNow, icecast, peak24h, points };
  }

  private window(id: string): Point[] {
    const from = this.now() - KEEP_MS;
    const list = (this.points.get(id) ?? []).filter((p) => p[0] > from);
    this.points.set(id, list);
    return list;
  }

  /** Take this minute's figures (and keep them on disk). */
  async sample(): Promise<void> {
    await this.readServers();
    const at = this.now();
    for (const c of this.opts.station.channels) {
      const list = this.window(c.id);
      list.push([at, this.opts.outputs.of(c)?.hub?.count ?? 0, this.icecastNow(c.playlist.mount)]);
    }
    if (this.opts.file) await this.save(this.opts.file);
  }

  private async readServers(): Promise<void> {
    const read = this.opts.readIcecast ?? readIcecastCounts;
    const next = new Map<string, Map<string, number>>();
    await Promise.all(
      this.opts.icecast.map(async (t) => {
        try {
          next.set(t.server, await read(t));
        } catch (err) {
          // Counted as none this minute; the stream itself is watched elsewhere.
          this.log.debug({ server: t.server, err: err instanceof Error ? err.message : String(err) }, 'Icecast listener counts not read');
        }
      }),
    );
    this.icecast = next;
  }

  private async load(file: string): Promise<void> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return;
    }
    const parsed = fileSchema.safeParse(safeJson(text));
    if (!parsed.success) {
      this.log.warn({ file }, 'listener figures file unreadable; starting a new one');
      return;
    }
    for (const [id, list] of Object.entries(parsed.data.channels)) this.points.set(id, list as Point[]);
  }

  private async save(file: string): Promise<void> {
    const channels: Record<string, Point[]> = {};
    for (const [id] of this.points) channels[id] = this.window(id);
    try {
      await writeFile(`${file}.tmp`, JSON.stringify({ version: 1, channels }));
      await rename(`${file}.tmp`, file);
    } catch (err) {
      this.log.warn({ file, err: err instanceof Error ? err.message : String(err) }, 'listener figures not saved');
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

const statusSchema = z.object({
  icestats: z.object({
    source: z
      .union([
        z.array(z.object({ listenurl: z.string().optional(), listeners: z.number().optional() }).loose()),
        z.object({ listenurl: z.string().optional(), listeners: z.number().optional() }).loose(),
      ])
      .optional(),
  }),
});

/** Listener counts by mount from an Icecast 2.4 status-json.xsl body (one source is an object, several an array). */
export function parseIcecastStatus(body: unknown): Map<string, number> {
  const counts = new Map<string, number>();
  const parsed = statusSchema.safeParse(body);
  if (!parsed.success) return counts;
  const sources = parsed.data.icestats.source;
  for (const s of Array.isArray(sources) ? sources : sources ? [sources] : []) {
    if (!s.listenurl) continue;
    try {
      counts.set(decodeURIComponent(new URL(s.listenurl).pathname), s.listeners ?? 0);
    } catch {
      // A listen URL Icecast could not have made: skip it.
    }
  }
  return counts;
}

async function readIcecastCounts(t: IcecastTarget): Promise<Map<string, number>> {
  const res = await fetch(`http://${t.host}:${t.port}/status-json.xsl`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const text = await res.text();
  // Icecast 2.4 writes bare `"title": -` style values for some fields; only what we read must parse.
  return parseIcecastStatus(safeJson(text.length > 2_000_000 ? '' : text));
}
