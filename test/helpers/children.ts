import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { childrenOf } from './station-process.js';

/** Processes started by this one (directly or through the station's ffmpeg launcher), whose command name is `comm` and whose command line matches `args` (read from /proc). */
export function childProcesses(comm: string, args?: RegExp): number[] {
  const found: number[] = [];
  for (const pid of childrenOf(process.pid)) {
    const entry = String(pid);
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ...": comm may contain spaces, so split after the last ')'.
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    // A zombie has exited; only its parent has not yet heard.
    if (name !== comm || stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') continue;
    if (args) {
      let cmdline: string;
      try {
        cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      } catch {
        continue;
      }
      if (!args.test(cmdline)) continue;
    }
    found.push(Number(entry));
  }
  return found;
}

/**
 * The decoder (an ffmpeg writing PCM, a child of `parent`) that has a file
 * named `name` open. Decoders read a song through the station's own
 * descriptor (/proc/<pid>/fd/<n>), so the name is found among the files
 * the process holds, not on its command line.
 */
export function decoderReading(name: string, parent = process.pid): number | undefined {
  for (const pid of childrenOf(parent)) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('s16le')) continue;
      if (readdirSync(`/proc/${pid}/fd`).some((fd) => linkOf(`/proc/${pid}/fd/${fd}`).endsWith(`/${name}`))) return pid;
    } catch {
      /* exited while we looked */
    }
  }
  return undefined;
}

function linkOf(p: string): string {
  try {
    return readlinkSync(p);
  } catch {
    return '';
  }
}
