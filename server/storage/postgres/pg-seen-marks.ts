/**
 * SeenMarks in PostgreSQL, held by every node as a replica (catalog-feed.ts). A mark never goes back:
 * one earlier than the one kept is ignored, here before any round trip when this node already holds a
 * later one, and in SQL in any case (two nodes, or an old tab closing late elsewhere). A mark at the
 * same seq replaces the one kept (its time), as in the embedded store.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { HistoryMark } from '../../../shared/history.js';
import type { SeenMarks } from '../../store/seen-marks.js';
import { frozenRecord, Replica, type CatalogFeed, type StoredRow } from './catalog-feed.js';

/** Ids never hold a newline. */
const keyOf = (userId: string, incidentId: string) => `${userId}\n${incidentId}`;

export async function openPgSeenMarks(pool: pg.Pool, feed: CatalogFeed, options: { log?: Logger } = {}): Promise<SeenMarks> {
  const select = `SELECT user_id || E'\\n' || incident_id AS key, 0 AS pos, version, value::text AS value FROM seen_marks`;
  const marks = await Replica.open<HistoryMark>({
    feed,
    log: options.log,
    table: 'seen_marks',
    async read(keys) {
      if (!keys) return (await pool.query<StoredRow>(select)).rows;
      const pairs = keys.map((k) => k.split('\n'));
      const { rows } = await pool.query<StoredRow>(`${select} WHERE (user_id, incident_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`, [
        pairs.map((p) => p[0]),
        pairs.map((p) => p[1]),
      ]);
      return rows;
    },
    keyOf: (notified) =>
      Array.isArray(notified) && typeof notified[0] === 'string' && typeof notified[1] === 'string' ? keyOf(notified[0], notified[1]) : undefined,
    decode: frozenRecord,
  });

  return {
    get: (userId, incidentId) => marks.get(keyOf(userId, incidentId)),
    async set(userId, incidentId, mark) {
      const key = keyOf(userId, incidentId);
      if ((marks.get(key)?.seq ?? -1) > mark.seq) return;
      const value = JSON.stringify(mark);
      const { rows } = await pool.query<{ version: number }>(
        `INSERT INTO seen_marks (user_id, incident_id, seq, value) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, incident_id) DO UPDATE SET seq = EXCLUDED.seq, value = EXCLUDED.value WHERE seen_marks.seq <= EXCLUDED.seq
         RETURNING version`,
        [userId, incidentId, mark.seq, value],
      );
      if (rows[0]) marks.committed([{ key, pos: 0, version: rows[0].version, value }]);
      // A later mark is stored (by another node): this one is ignored; make sure this node has that one.
      else marks.refresh(key);
    },
    close: () => marks.close(),
  };
}
