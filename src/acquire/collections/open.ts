import type { Logger } from 'pino';
import type { AddressPolicy } from '../../config/address-policy.js';
import type { CollectionEntry } from '../../config/playlist.js';
import type { Collection } from './collection.js';
import type { Timers } from '../../kernel/lifecycle.js';
import { FolderCollection } from './folder.js';
import { M3uCollection } from './m3u.js';
import { QqPlaylistCollection, type PlaylistProvider } from './qq-playlist.js';

export interface CollectionDeps {
  /** Folders local songs and lists must resolve into. */
  roots: readonly string[];
  policy: AddressPolicy;
  qq: PlaylistProvider | undefined;
  /** A folder's full re-read interval (its change events come at once). */
  folderPollMs?: number;
  /** What re-reads run on (background real timers unless a test gives a fake clock). */
  timers?: Timers;
}

/** Opens each kind of collection entry. */
export function collectionOpener(deps: CollectionDeps): (entry: CollectionEntry, log: Logger) => Collection {
  return (entry, log) => {
    switch (entry.source) {
      case 'folder':
        return new FolderCollection(entry, {
          log,
          roots: deps.roots,
          ...(deps.folderPollMs ? { pollMs: deps.folderPollMs } : {}),
          ...(deps.timers ? { timers: deps.timers } : {}),
        });
      case 'm3u':
        return new M3uCollection(entry, { log, roots: deps.roots, policy: deps.policy, ...(deps.timers ? { timers: deps.timers } : {}) });
      case 'qq-playlist':
        return new QqPlaylistCollection(entry, deps.qq, log, deps.timers);
    }
  };
}
