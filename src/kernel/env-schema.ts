/**
 * What both services' environments are read with: the shared field types,
 * zod issues turned into `where: message` pairs, and one parse that reports
 * every bad variable together.
 */
import * as z from 'zod';
import { ConfigError, type ConfigIssue } from './errors.js';

/** A whole number given as a string, within bounds. */
export const intInRange = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `expected a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `expected at least ${min}`).max(max, `expected at most ${max}`));

export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');
export const logFormat = z.enum(['auto', 'json', 'pretty']).default('auto');

/** Every issue of a zod parse, as `where: message` pairs. */
export function zodIssues(error: z.ZodError, prefix = ''): ConfigIssue[] {
  return error.issues.map((issue) => ({
    where: prefix + formatPath(issue.path),
    message: issue.message,
  }));
}

/** `['tracks', 3, 'path']` -> `tracks[3].path`. */
export function formatPath(p: readonly PropertyKey[]): string {
  let out = '';
  for (const key of p) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/**
 * Parse an environment against a schema, empty strings counting as unset (as
 * in most shells' `VAR=`). Throws a ConfigError naming every bad variable.
 */
export function parseEnv<S extends z.ZodType>(schema: S, source: NodeJS.ProcessEnv): z.output<S> {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) throw new ConfigError(zodIssues(parsed.error));
  return parsed.data;
}
