/**
 * The y-websocket wire protocol, decoded strictly. Every incoming frame is parsed in full here —
 * type, sub-type, lengths, and the update or state vector inside — before anything reaches the
 * document, so a malformed frame costs its sender the connection and nobody else anything.
 */
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import * as Y from 'yjs';
import { CloseCode, MessageType, SyncStep } from '../../shared/protocol.js';
import { measureUpdate } from './update-cost.js';

export type Incoming =
  /** `empty`: the asker has nothing (a fresh client), so the answer is the whole document. */
  | { type: 'sync-step1'; stateVector: Uint8Array; empty: boolean }
  /** A sync step 2 or an update: both carry a Yjs update to apply. */
  | { type: 'update'; update: Uint8Array }
  | { type: 'awareness'; update: Uint8Array }
  | { type: 'query-awareness' }
  | { type: 'auth' };

/**
 * A refused frame. It carries no stack trace: it is expected input, not a bug, and a hostile client
 * sending hundreds a second would otherwise have the server capture a stack for each.
 */
export class ProtocolError extends Error {
  constructor(
    readonly code: CloseCode,
    /** Short reason, sent in the close frame and counted in metrics. */
    readonly reason: string,
  ) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(reason);
    Error.stackTraceLimit = limit;
  }
}

const malformed = (reason: string) => new ProtocolError(CloseCode.malformed, reason);

function readPayload(dec: decoding.Decoder): Uint8Array {
  try {
    return decoding.readVarUint8Array(dec);
  } catch {
    throw malformed('truncated message');
  }
}

function expectEnd(dec: decoding.Decoder): void {
  if (decoding.hasContent(dec)) throw malformed('trailing bytes after message');
}

export function parseMessage(data: Uint8Array, maxBytes: number): Incoming {
  if (data.length > maxBytes) throw new ProtocolError(CloseCode.tooLarge, `message over ${maxBytes} bytes`);
  if (data.length === 0) throw malformed('empty message');
  const dec = decoding.createDecoder(data);
  let type: number;
  try {
    type = decoding.readVarUint(dec);
  } catch {
    throw malformed('truncated message type');
  }
  switch (type) {
    case MessageType.sync: {
      let step: number;
      try {
        step = decoding.readVarUint(dec);
      } catch {
        throw malformed('truncated sync message');
      }
      const payload = readPayload(dec);
      expectEnd(dec);
      if (step === SyncStep.step1) {
        let clients: number;
        try {
          clients = Y.decodeStateVector(payload).size;
        } catch {
          throw malformed('undecodable state vector');
        }
        return { type: 'sync-step1', stateVector: payload, empty: clients === 0 };
      }
      if (step === SyncStep.step2 || step === SyncStep.update) {
        if (payload.length === 0) throw malformed('empty update');
        measureUpdate(payload); // refuses what would take Yjs too long to decode and apply
        return { type: 'update', update: payload };
      }
      throw malformed(`unknown sync step ${step}`);
    }
    case MessageType.awareness: {
      const payload = readPayload(dec);
      expectEnd(dec);
      return { type: 'awareness', update: payload };
    }
    case MessageType.queryAwareness:
      expectEnd(dec);
      return { type: 'query-awareness' };
    case MessageType.auth:
      return { type: 'auth' };
    default:
      throw malformed(`unknown message type ${type}`);
  }
}

function frame(write: (enc: encoding.Encoder) => void): Uint8Array {
  const enc = encoding.createEncoder();
  write(enc);
  return encoding.toUint8Array(enc);
}

export const encodeSyncStep1 = (stateVector: Uint8Array) =>
  frame((e) => (encoding.writeVarUint(e, MessageType.sync), encoding.writeVarUint(e, SyncStep.step1), encoding.writeVarUint8Array(e, stateVector)));

export const encodeSyncStep2 = (update: Uint8Array) =>
  frame((e) => (encoding.writeVarUint(e, MessageType.sync), encoding.writeVarUint(e, SyncStep.step2), encoding.writeVarUint8Array(e, update)));

export const encodeUpdate = (update: Uint8Array) =>
  frame((e) => (encoding.writeVarUint(e, MessageType.sync), encoding.writeVarUint(e, SyncStep.update), encoding.writeVarUint8Array(e, update)));

export const encodeAwareness = (update: Uint8Array) =>
  frame((e) => (encoding.writeVarUint(e, MessageType.awareness), encoding.writeVarUint8Array(e, update)));

/** Message 100: the state vector of what is durable on the server. */
export const encodePersisted = (stateVector: Uint8Array) =>
  frame((e) => (encoding.writeVarUint(e, MessageType.persisted), encoding.writeVarUint8Array(e, stateVector)));

export interface AwarenessEntry {
  clientId: number;
  clock: number;
  /** Parsed JSON state; `null` means the client went away. */
  state: unknown;
}

/**
 * Decodes an awareness update (y-protocols layout) fully; throws ProtocolError on anything odd, and
 * 4413 for a state over `maxStateBytes` (before parsing it).
 */
export function decodeAwareness(update: Uint8Array, maxStateBytes = Infinity): AwarenessEntry[] {
  const dec = decoding.createDecoder(update);
  const out: AwarenessEntry[] = [];
  try {
    for (let n = decoding.readVarUint(dec); n > 0; n--) {
      const clientId = decoding.readVarUint(dec);
      const clock = decoding.readVarUint(dec);
      const json = decoding.readVarString(dec);
      if (json.length > maxStateBytes) throw new ProtocolError(CloseCode.tooLarge, `presence state over ${maxStateBytes} bytes`);
      out.push({ clientId, clock, state: JSON.parse(json) as unknown });
    }
  } catch (err) {
    if (err instanceof ProtocolError) throw err;
    throw malformed('undecodable awareness update');
  }
  expectEnd(dec);
  return out;
}

export function encodeAwarenessEntries(entries: readonly AwarenessEntry[]): Uint8Array {
  return frame((e) => {
    encoding.writeVarUint(e, entries.length);
    for (const { clientId, clock, state } of entries) {
      encoding.writeVarUint(e, clientId);
      encoding.writeVarUint(e, clock);
      encoding.writeVarString(e, JSON.stringify(state));
    }
  });
}
