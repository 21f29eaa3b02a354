/**
 * What a node publishes after a COMMIT (bl:inc:<incident>): the records, so other nodes apply them
 * without a round trip to PostgreSQL — or, above a size, only the range, and they read it from there.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';

export interface CommittedRecords {
  instanceId: string;
  firstSeq: number;
  lastSeq: number;
  at: number;
  /** Absent when only the range was sent. */
  records?: Array<{ userId: string; update: Uint8Array; claims: number[] }>;
}

/** Above this many bytes of updates only the range is sent (Redis pub/sub copies each message to every subscriber). */
export const INLINE_LIMIT = 256 * 1024;

export function encodeCommitted(m: CommittedRecords): Buffer {
  const e = encoding.createEncoder();
  encoding.writeVarString(e, m.instanceId);
  encoding.writeVarUint(e, m.firstSeq);
  encoding.writeVarUint(e, m.lastSeq);
  encoding.writeVarUint(e, m.at);
  encoding.writeVarUint(e, m.records ? 1 : 0);
  for (const r of m.records ?? []) {
    encoding.writeVarString(e, r.userId);
    encoding.writeVarUint8Array(e, r.update);
    encoding.writeVarUint(e, r.claims.length);
    for (const c of r.claims) encoding.writeVarUint(e, c);
  }
  return Buffer.from(encoding.toUint8Array(e));
}

/** Throws on a message that does not decode. */
export function decodeCommitted(message: Uint8Array): CommittedRecords {
  const d = decoding.createDecoder(message);
  const instanceId = decoding.readVarString(d);
  const firstSeq = decoding.readVarUint(d);
  const lastSeq = decoding.readVarUint(d);
  const at = decoding.readVarUint(d);
  if (decoding.readVarUint(d) === 0) return { instanceId, firstSeq, lastSeq, at };
  const records: NonNullable<CommittedRecords['records']> = [];
  for (let seq = firstSeq; seq <= lastSeq; seq++) {
    const userId = decoding.readVarString(d);
    const update = decoding.readVarUint8Array(d);
    const claims = Array.from({ length: decoding.readVarUint(d) }, () => decoding.readVarUint(d));
    records.push({ userId, update, claims });
  }
  return { instanceId, firstSeq, lastSeq, at, records };
}
