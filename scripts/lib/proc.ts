import { readdirSync, readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

interface ProcInfo {
  pid: number;
  ppid: number;
  cpuSeconds: number;
  /** What its exited children (and theirs) were reaped with. */
  reapedSeconds: number;
  rssBytes: number;
}

function read(pid: number): ProcInfo | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces: fields start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      pid,
      ppid: Number(f[1]),
      cpuSeconds: (Number(f[11]) + Number(f[12])) / TICKS,
      reapedSeconds: (Number(f[13]) + Number(f[14])) / TICKS,
      rssBytes: Number(f[21]) * 4096,
    };
  } catch {
    return null;
  }
}

function pss(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export interface TreeUsage {
  processes: number;
  /** CPU of live processes plus what exited children were reaped with. */
  cpuSeconds: number;
  rssBytes: number;
  /** Proportional set size: shared library pages split between the processes sharing them. */
  pssBytes: number;
}

/** CPU and memory of a process and all its descendants. */
export function treeUsage(root: number): TreeUsage {
  const all = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => read(Number(d)))
    .filter((p): p is ProcInfo => p !== null);
  const children = new Map<number, ProcInfo[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const tree: ProcInfo[] = [];
  const stack = all.filter((p) => p.pid === root);
  while (stack.length > 0) {
    const p = stack.pop()!;
    tree.push(p);
    stack.push(...(children.get(p.pid) ?? []));
  }
  // Children that already exited (decoders, probes) are counted in their parent's cutime/cstime: the
  // station's, or the ffmpeg launcher's for a big station. A reaped child is no longer in the tree, so
  // nothing is counted twice.
  return {
    processes: tree.length,
    cpuSeconds: tree.reduce((s, p) => s + p.cpuSeconds + p.reapedSeconds, 0),
    rssBytes: tree.reduce((s, p) => s + p.rssBytes, 0),
    pssBytes: tree.reduce((s, p) => s + pss(p.pid), 0),
  };
}

/** CPU seconds of a process's main thread alone (its JavaScript, and what runs on it: in-process encoders). */
export function mainThreadCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICKS;
  } catch {
    return 0;
  }
}
