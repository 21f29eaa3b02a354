/**
 * Where each user last left each incident: the point of its history they had seen, so that on
 * return they get "since you left". Its own small lowdb file, behind an interface like every store.
 */
import path from 'node:path';
import { Low } from 'lowdb';
import type { HistoryMark } from '../../shared/history.js';
import { DurableJsonFile } from './metadata.js';

export interface SeenMarks {
  get(userId: string, incidentId: string): HistoryMark | undefined;
  /** Records the mark; one earlier than the one kept is ignored (an old tab closing late). */
  set(userId: string, incidentId: string, mark: HistoryMark): Promise<void>;
  close(): Promise<void>;
}

interface Data {
  version: 1;
  /** userId → incidentId → mark */
  marks: Record<string, Record<string, HistoryMark>>;
}

const isData = (d: unknown): d is Data =>
  typeof d === 'object' && d !== null && (d as Data).version === 1 && typeof (d as Data).marks === 'object' && (d as Data).marks !== null;

export async function openLowdbSeenMarks(dataDir: string): Promise<SeenMarks> {
  const adapter = new DurableJsonFile<Data>(path.join(dataDir, 'seen.json'), isData);
  const db = new Low<Data>(adapter, { version: 1, marks: {} });
  await db.read();
  const marks = db.data.marks;
  return {
    get: (userId, incidentId) => marks[userId]?.[incidentId],
    async set(userId, incidentId, mark) {
      const mine = (marks[userId] ??= {});
      if ((mine[incidentId]?.seq ?? -1) > mark.seq) return;
      mine[incidentId] = mark;
      await db.write();
    },
    close: () => adapter.drain(),
  };
}
