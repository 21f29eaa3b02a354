/**
 * Records of an incident's history as `GET /api/incidents/:id/replay/updates` sends them, for a
 * replay to play forward: one after another, each
 *   varuint seq | float64 at (ms, UTC) | varstring userId | varuint8array update (Yjs v1)
 * in lib0's encoding, like the y-websocket protocol.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';

export interface ReplayRecord {
  seq: number;
  at: number;
  userId: string;
  update: Uint8Array;
}

export const REPLAY_RECORDS_TYPE = 'application/vnd.bridgelog.records';

export function encodeReplayRecord(encoder: encoding.Encoder, r: ReplayRecord): void {
  encoding.writeVarUint(encoder, r.seq);
  encoding.writeFloat64(encoder, r.at);
  encoding.writeVarString(encoder, r.userId);
  encoding.writeVarUint8Array(encoder, r.update);
}

export function decodeReplayRecords(bytes: Uint8Array): ReplayRecord[] {
  const decoder = decoding.createDecoder(bytes);
  const out: ReplayRecord[] = [];
  while (decoding.hasContent(decoder)) {
    out.push({
      seq: decoding.readVarUint(decoder),
      at: decoding.readFloat64(decoder),
      userId: decoding.readVarString(decoder),
      update: decoding.readVarUint8Array(decoder),
    });
  }
  return out;
}
