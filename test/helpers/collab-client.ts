/**
 * The stock y-websocket provider, as a script or the CLI would use it, plus the one thing Bridgelog
 * adds: message type 100, "this much is durable on the server".
 */
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import { WebsocketProvider } from 'y-websocket';
import WebSocket from 'ws';
import { vi } from 'vitest';
import { MessageType } from '../../shared/protocol.js';

export interface CollabClient {
  doc: Y.Doc;
  provider: WebsocketProvider;
  /** The last durable state vector the server announced. */
  durable: Map<number, number>;
  /** Resolves when everything this client wrote is on the server's disk. */
  saved: () => Promise<void>;
  isSaved: () => boolean;
  /** Close events seen: code and reason. */
  closes: Array<{ code: number; reason: string }>;
  destroy: () => void;
}

/**
 * The stock provider, in Node, adds a process 'exit' listener per provider (to announce its leaving):
 * tests with ten or more clients at once are not a leak, so no MaxListenersExceededWarning for them.
 */
process.setMaxListeners(Math.max(process.getMaxListeners(), 100));

export function connect(wsUrl: string, incidentId: string, token: string, doc = new Y.Doc()): CollabClient {
  const provider = new WebsocketProvider(`${wsUrl}/collab`, incidentId, doc, {
    params: { token },
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true, // only the server may carry updates between clients
    maxBackoffTime: 200,
  });
  const client: CollabClient = {
    doc,
    provider,
    durable: new Map(),
    closes: [],
    isSaved: () => {
      const local = Y.decodeStateVector(Y.encodeStateVector(doc));
      for (const [clientId, clock] of local) {
        if (clientId === doc.clientID && (client.durable.get(clientId) ?? 0) < clock) return false;
      }
      return true;
    },
    saved: () => vi.waitFor(() => {
      if (!client.isSaved()) throw new Error('not saved yet');
    }, { timeout: 15_000, interval: 5 }),
    destroy: () => {
      provider.destroy();
      doc.destroy();
    },
  };
  provider.messageHandlers[MessageType.persisted] = (_encoder, decoder) => {
    client.durable = Y.decodeStateVector(decoding.readVarUint8Array(decoder));
  };
  provider.on('connection-close', (event) => {
    if (event) client.closes.push({ code: event.code, reason: event.reason });
  });
  return client;
}

export function synced(client: CollabClient): Promise<void> {
  return vi.waitFor(() => {
    if (!client.provider.synced) throw new Error('not synced yet');
  }, { timeout: 15_000, interval: 5 });
}
