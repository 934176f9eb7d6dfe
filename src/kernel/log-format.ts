/**
 * Logs for a person at a terminal: `12:30:05 INFO  radio  now playing  song="晨光"`,
 * coloured by level, multi-line messages indented. pino writes one JSON
 * object per line; this turns each into such a line. Used when stdout is a
 * terminal (or LOG_FORMAT=pretty); files, pipes and log collectors get the
 * JSON lines untouched. Pure apart from the stream it writes to.
 */
import { Writable } from 'node:stream';

const LEVELS: Record<number, [string, string]> = {
  10: ['TRACE', '\x1b[90m'],
  20: ['DEBUG', '\x1b[36m'],
  30: ['INFO ', '\x1b[32m'],
  40: ['WARN ', '\x1b[33m'],
  50: ['ERROR', '\x1b[31m'],
  60: ['FATAL', '\x1b[41m'],
};
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';
/** Fields every line has, or that are shown in front: not repeated as key=value. */
const SHOWN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'service', 'channel']);

/** One pino JSON line as a person reads it. */
export function prettyLine(json: string, colour: boolean): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const [name, tint] = LEVELS[Number(o.level)] ?? ['?    ', ''];
  const time = new Date(Number(o.time) || Date.now()).toTimeString().slice(0, 8);
  const paint = (s: string, c: string) => (colour ? `${c}${s}${RESET}` : s);
  const where = typeof o.channel === 'string' ? `${paint(o.channel, DIM)}  ` : '';
  const msg = String(o.msg ?? '').replace(/\n/g, '\n    ');
  const extras = Object.entries(o)
    .filter(([k]) => !SHOWN.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v)}`)
    .join(' ');
  return `${paint(time, DIM)} ${paint(name, tint)} ${where}${msg}${extras ? `  ${paint(extras, DIM)}` : ''}`;
}

/** A destination for pino that writes pretty lines to `out`. */
export function prettyStream(out: NodeJS.WritableStream & { isTTY?: boolean }, colour = Boolean(out.isTTY)): Writable {
  let partial = '';
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      partial += chunk.toString('utf8');
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) if (line) out.write(`${prettyLine(line, colour)}\n`);
      cb();
    },
  });
}

/** Whether logs go out pretty: LOG_FORMAT=pretty, or auto on a terminal. */
export function wantsPretty(format: 'auto' | 'json' | 'pretty', isTTY: boolean | undefined): boolean {
  return format === 'pretty' || (format === 'auto' && Boolean(isTTY));
}
