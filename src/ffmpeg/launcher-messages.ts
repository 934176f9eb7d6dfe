/** What the station asks of its launcher process (see launcher.ts). */
export type ToLauncher = { t: 'spawn'; id: number; command: string; args: string[] } | { t: 'kill'; id: number; signal: NodeJS.Signals };

/** What the launcher answers: a process's pipes (stdout and stderr, each with its socket handle), its exit, or why it could not start. */
export type FromLauncher =
  | { t: 'stdout'; id: number; pid: number }
  | { t: 'stderr'; id: number }
  | { t: 'exit'; id: number; code: number | null; signal: NodeJS.Signals | null }
  | { t: 'error'; id: number; code: string | undefined; message: string };
