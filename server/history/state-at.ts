/**
 * `state?at=`: the document exactly as it was after every record received at or before a moment,
 * from the latest checkpoint not later than it and the records after that.
 */
import * as Y from 'yjs';
import type { IncidentLog } from '../storage/incident-log.js';

/** As a Yjs update; `upTo` is the last seq to consider (the room's `lastSeq` while it is live). */
export async function stateAt(log: IncidentLog, at: number, upTo?: number): Promise<Uint8Array> {
  const cp = await log.latestCheckpoint();
  const doc = new Y.Doc();
  let after = 0;
  if (cp && cp.at <= at && cp.seq <= (upTo ?? Infinity)) {
    Y.applyUpdate(doc, cp.doc);
    after = cp.seq;
  }
  for await (const record of log.records({ after, upTo })) {
    if (record.at > at) break;
    Y.applyUpdate(doc, record.update);
  }
  const update = Y.encodeStateAsUpdate(doc);
  doc.destroy();
  return update;
}
