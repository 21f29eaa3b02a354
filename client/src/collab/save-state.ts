/**
 * "Saved" means on the server's disk. The server announces what is durable as a state vector in
 * message type 100; this client's changes are saved once it covers this client's own clock.
 */
import * as decoding from 'lib0/decoding';
import * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';
import { MessageType } from '../../../shared/protocol';

export type SaveState = 'saved' | 'saving' | 'offline';

/** Calls `onChange` with the state now and whenever it changes; returns the function that stops watching. */
export function watchSaveState(provider: WebsocketProvider, onChange: (state: SaveState) => void): () => void {
  const { doc } = provider;
  let durable = new Map<number, number>();
  let last: SaveState | undefined;
  const check = () => {
    const own = doc.clientID;
    const state: SaveState = !provider.wsconnected ? 'offline' : (durable.get(own) ?? 0) >= Y.getState(doc.store, own) ? 'saved' : 'saving';
    if (state !== last) onChange((last = state));
  };
  provider.messageHandlers[MessageType.persisted] = (_encoder, decoder) => {
    durable = Y.decodeStateVector(decoding.readVarUint8Array(decoder));
    check();
  };
  provider.on('status', check);
  doc.on('update', check);
  check();
  return () => {
    provider.off('status', check);
    doc.off('update', check);
  };
}
