import type { EventEmitter } from 'node:events';
import type { Track } from '../../config/playlist.js';

/**
 * Songs kept somewhere else (a folder, an M3U file, a QQ Music playlist),
 * read into song entries and kept in step as that place changes.
 *
 * Lifecycle: loading (`tracks` null) -> ready (`tracks` set; `change` on
 * each difference) -> closed. A failed re-read keeps the last good songs
 * and is logged; the first read failing leaves `tracks` empty and retries.
 *
 * Events: `change` (Track[]) whenever the songs differ from the last ones.
 */
export interface Collection extends EventEmitter {
  readonly tracks: readonly Track[] | null;
  close(): void;
}
