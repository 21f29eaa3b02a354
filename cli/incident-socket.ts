/**
 * The incident's document over the collaboration socket, exactly as the web app and README scripts
 * use it: the stock y-websocket provider, the schema helpers, and "saved" only once the server's
 * message type 100 says the edit is on its disk. So the CLI's entries are attributed and durable
 * like anyone else's.
 */
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import { WebsocketProvider } from 'y-websocket';
import WebSocket from 'ws';
import { CloseCode, MessageType } from '../shared/protocol.js';
import { CliError, ServerRefused, ServerUnreachable } from './errors.js';
import type { BridgelogApi } from './server-api.js';

/** Connecting, syncing, writing and hearing "persisted" back: seconds on any working server. */
const SAVE_TIMEOUT_MS = 20_000;

export function connectToIncident(api: BridgelogApi, incidentId: string, doc = new Y.Doc()): WebsocketProvider {
  return new WebsocketProvider(api.collabUrl, incidentId, doc, {
    params: { token: api.access.token },
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true, // only the server carries updates between clients
    maxBackoffTime: 1000,
  });
}

/** What a close code from the server means for the person at the terminal; undefined when reconnecting may help. */
export function refusalFor(code: number, incidentId: string): CliError | undefined {
  switch (code) {
    case CloseCode.unauthenticated:
      return new ServerRefused('the server refused the API token on the collaboration socket (4401): check BRIDGELOG_TOKEN, or run `bridgelog login`');
    case CloseCode.forbidden:
      return new ServerRefused('the server refused the edit (4403): viewers cannot write to an incident');
    case CloseCode.notFound:
      return new ServerRefused(`incident ${incidentId} does not exist, or you are not a member of it (4404)`);
    case CloseCode.tooLarge:
      return new ServerRefused('the entry is larger than the server accepts in one message (4413)');
    case CloseCode.malformed:
      return new ServerRefused('the server could not read what the CLI sent (4400)');
    default:
      return undefined;
  }
}

/**
 * Connects, waits for the server's state, lets `edit` change the synced document in one
 * transaction, and resolves once the server says that change is durable. `edit` returns false when
 * there is nothing to write (the entry is already there): then it resolves false at once.
 */
export function writeToIncident(api: BridgelogApi, incidentId: string, edit: (doc: Y.Doc) => boolean): Promise<boolean> {
  const doc = new Y.Doc();
  const provider = connectToIncident(api, incidentId, doc);
  let stage: 'connect to' | 'sync with' | 'hear back from' = 'connect to';
  return new Promise<boolean>((resolve, reject) => {
    const finish = (outcome: { wrote: boolean } | Error) => {
      clearTimeout(timer);
      provider.destroy();
      doc.destroy();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome.wrote);
    };
    const timer = setTimeout(() => {
      const what = stage === 'hear back from' ? 'confirm the entry is saved' : `${stage === 'connect to' ? 'accept' : 'sync'} the collaboration socket`;
      finish(new ServerUnreachable(`${api.url} did not ${what} within ${SAVE_TIMEOUT_MS / 1000} s`));
    }, SAVE_TIMEOUT_MS);
    provider.on('status', ({ status }) => {
      if (status === 'connected' && stage === 'connect to') stage = 'sync with';
    });
    provider.on('connection-close', (event) => {
      const refusal = event ? refusalFor(event.code, incidentId) : undefined;
      if (refusal) finish(refusal);
    });
    provider.messageHandlers[MessageType.persisted] = (_encoder, decoder) => {
      const durable = Y.decodeStateVector(decoding.readVarUint8Array(decoder));
      if (stage === 'hear back from' && (durable.get(doc.clientID) ?? 0) >= Y.getState(doc.store, doc.clientID)) finish({ wrote: true });
    };
    provider.once('sync', () => {
      stage = 'hear back from';
      try {
        if (!doc.transact(() => edit(doc))) finish({ wrote: false });
      } catch (err) {
        finish(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}
