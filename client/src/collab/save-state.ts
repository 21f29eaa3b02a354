/**
 * "Saved" means on the server's disk. The server announces what is durable as a state vector in
 * message type 100; this browser's changes are saved once it covers every client ID it wrote with
 * (LocalChanges). Offline, the changes wait in IndexedDB and the count says how many things they touch.
 *
 * A deletion adds nothing to a state vector, so one is counted as unsaved from the moment it is made
 * until the next type-100 message.
 */
import * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';
import { Store } from '../store';
import { thingOf, type LocalChanges } from './local-changes';

export interface SaveState {
  status: 'connecting' | 'saving' | 'saved' | 'offline';
  /** How many things (entries, hypotheses, the incident itself) have changes not yet on the server. */
  pending: number;
  /** Which: `entry:<id>`, `hypothesis:<id>`, `meta`. */
  unsaved: ReadonlySet<string>;
}

const same = (a: SaveState, b: SaveState) =>
  a.status === b.status && a.pending === b.pending && a.unsaved.size === b.unsaved.size && [...a.unsaved].every((t) => b.unsaved.has(t));

export interface SaveWatch {
  state: Store<SaveState>;
  /** Takes the server's durable state vector (message type 100). */
  persisted: (durable: Map<number, number>) => void;
  stop: () => void;
}

export function watchSaveState(provider: WebsocketProvider, changes: LocalChanges): SaveWatch {
  const { doc } = provider;
  const state = new Store<SaveState>({ status: 'connecting', pending: 0, unsaved: new Set() }, same);
  const deletions = new Set<string>();
  let failed = false;
  let scheduled = false;

  const check = () => {
    scheduled = false;
    const unsaved = changes.unsaved(doc);
    for (const thing of deletions) unsaved.things.add(thing);
    const any = unsaved.any || deletions.size > 0;
    const pending = Math.max(unsaved.things.size, any ? 1 : 0);
    const status = provider.wsconnected ? (any ? 'saving' : 'saved') : failed ? 'offline' : 'connecting';
    state.set({ status, pending, unsaved: unsaved.things });
  };
  // Typing makes many updates in a row: look once they are done.
  const schedule = () => {
    if (!scheduled) queueMicrotask(check);
    scheduled = true;
  };

  const persisted = (durable: Map<number, number>) => {
    changes.setDurable(doc, durable);
    deletions.clear();
    schedule();
  };
  const onTransaction = (tr: Y.Transaction) => {
    if (!tr.local) return;
    Y.iterateDeletedStructs(tr, tr.deleteSet, (struct) => {
      if (struct instanceof Y.Item) deletions.add(thingOf(doc, struct));
    });
    schedule();
  };
  const onStatus = ({ status }: { status: string }) => {
    if (status === 'connected') failed = false;
    schedule();
  };
  const onFailure = () => {
    failed = true;
    schedule();
  };
  provider.on('status', onStatus);
  provider.on('connection-close', onFailure);
  provider.on('connection-error', onFailure);
  doc.on('afterTransaction', onTransaction);
  check();
  return {
    state,
    persisted,
    stop: () => {
      provider.off('status', onStatus);
      provider.off('connection-close', onFailure);
      provider.off('connection-error', onFailure);
      doc.off('afterTransaction', onTransaction);
    },
  };
}
