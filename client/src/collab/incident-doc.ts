/**
 * One incident's shared document, synced over the collaboration socket by the stock y-websocket
 * provider; the session cookie authenticates it. Only the server carries updates between clients
 * (no BroadcastChannel between tabs), so every change is attributed and made durable there.
 */
import { useEffect, useState } from 'react';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { CloseCode, Paths } from '../../../shared/protocol';
import { listEntries, readMeta, type Entry, type Meta } from '../../../shared/schema/doc';
import { watchSaveState, type SaveState } from './save-state';

export interface IncidentDoc {
  /** `undefined` until the provider is set up. */
  doc?: Y.Doc;
  entries: Entry[];
  meta: Meta;
  save: SaveState;
  /** Why the server refused the connection for good (e.g. "read-only: viewers cannot edit"). */
  refused?: string;
}

const collabUrl = () => `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}${Paths.collab}`;

export function useIncidentDoc(incidentId: string): IncidentDoc {
  const [state, setState] = useState<IncidentDoc>({ entries: [], meta: {}, save: 'offline' });

  useEffect(() => {
    const doc = new Y.Doc();
    const provider = new WebsocketProvider(collabUrl(), encodeURIComponent(incidentId), doc, { disableBc: true });
    const render = () => setState((prev) => ({ ...prev, doc, entries: listEntries(doc), meta: readMeta(doc) }));
    doc.on('update', render);
    render();
    const stopWatching = watchSaveState(provider, (save) => setState((prev) => ({ ...prev, save })));
    provider.on('closed', ({ code, reason }) => {
      // The session expired while the page was open: log in again, then come back here.
      if (code === CloseCode.unauthenticated) return window.location.assign('/login');
      setState((prev) => ({ ...prev, refused: reason || 'the server closed the connection' }));
    });
    return () => {
      stopWatching();
      provider.destroy();
      doc.destroy();
    };
  }, [incidentId]);

  return state;
}
