/** What the main thread and a LAME worker say to each other (see LamePool). */
export type ToWorker =
  | { t: 'open'; id: number; path: string; bitrate: number }
  | { t: 'pcm'; id: number; bytes: ArrayBuffer }
  | { t: 'end'; id: number }
  | { t: 'kill'; id: number };

export type FromWorker = { t: 'data'; id: number; bytes: ArrayBuffer } | { t: 'exit'; id: number; problem: string | null };
