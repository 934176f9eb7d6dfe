import { readdirSync, readFileSync } from 'node:fs';

/** Processes whose parent is this one, whose command name is `comm` and whose command line matches `args` (read from /proc). */
export function childProcesses(comm: string, args?: RegExp): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid ...": comm may contain spaces, so split after the last ')'.
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid !== process.pid || name !== comm) continue;
    if (args) {
      let cmdline = '';
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
