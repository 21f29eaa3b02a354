/**
 * NotificationStore in PostgreSQL (tables in migrations/006-notifications.ts). A derivation is one
 * transaction: the incident's state row locked `FOR UPDATE` (two nodes deriving one incident take
 * turns; the second sees what the first wrote), messages inserted `ON CONFLICT (id) DO NOTHING`,
 * digest items appended to the destination's open digest, the new state written, COMMIT. Claims take
 * due messages `FOR UPDATE SKIP LOCKED` and hold them under a lease by PostgreSQL's clock; every
 * change by the sender is conditional on still holding it.
 */
import type pg from 'pg';
import type { NotificationEvent } from '../../../shared/notifications.js';
import {
  ATTEMPTS_KEPT, withTest, type AttemptRecord, type DeliveryCounts, type DestinationRecord, type MessageRecord, type NotificationStore,
  type NotifiedState,
} from '../../notifications/notification-store.js';
import { transaction as inTransaction } from './database.js';

interface MessageRow {
  id: string;
  destination_id: string;
  incident_id: string;
  event: NotificationEvent;
  status: MessageRecord['status'];
  digest: boolean;
  created_at: number;
  since: number;
  next_at: number | null;
  delivered_at: number | null;
  attempts: number;
  last_error: string | null;
}

interface AttemptRow {
  message_id: string;
  destination_id: string;
  at: Date;
  duration_ms: number;
  ok: boolean;
  status_code: number | null;
  error: string | null;
  excerpt: string | null;
}

const MESSAGE_COLUMNS = 'id, destination_id, incident_id, event, status, digest, created_at, since, next_at, delivered_at, attempts, last_error';

const messageOf = (r: MessageRow): MessageRecord => ({
  id: r.id,
  destinationId: r.destination_id,
  incidentId: r.incident_id,
  event: r.event,
  status: r.status,
  digest: r.digest,
  createdAt: r.created_at,
  since: r.since,
  nextAttemptAt: r.next_at,
  deliveredAt: r.delivered_at,
  attempts: r.attempts,
  lastError: r.last_error,
});

const attemptOf = (r: AttemptRow): AttemptRecord => ({
  messageId: r.message_id,
  destinationId: r.destination_id,
  at: r.at.toISOString(),
  durationMs: r.duration_ms,
  ok: r.ok,
  ...(r.status_code !== null ? { statusCode: r.status_code } : {}),
  ...(r.error !== null ? { error: r.error } : {}),
  ...(r.excerpt !== null ? { excerpt: r.excerpt } : {}),
});

const destinationOf = (r: { value: Omit<DestinationRecord, 'secret'>; secret: string | null }): DestinationRecord => ({
  ...r.value,
  ...(r.secret !== null ? { secret: r.secret } : {}),
});

export function openPgNotifications(pool: pg.Pool): NotificationStore {
  const transaction = <T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> => inTransaction(pool, work);
  const insertMessage = (client: pg.PoolClient, m: { id: string; destinationId: string; incidentId: string; event: NotificationEvent; dueAt: number }, now: number, digest: boolean) =>
    client.query(
      `INSERT INTO notify_messages (id, destination_id, incident_id, event, status, digest, created_at, since, next_at)
       VALUES ($1, $2, $3, $4::json, 'pending', $5, $6, $6, $7) ON CONFLICT (id) DO NOTHING`,
      [m.id, m.destinationId, m.incidentId, JSON.stringify(m.event), digest, now, m.dueAt],
    );

  return {
    async destinations() {
      const { rows } = await pool.query('SELECT value, secret FROM notify_destinations ORDER BY created_at, id');
      return rows.map(destinationOf);
    },
    async destination(id) {
      const { rows } = await pool.query('SELECT value, secret FROM notify_destinations WHERE id = $1', [id]);
      return rows[0] && destinationOf(rows[0]);
    },
    async addDestination({ secret, ...value }) {
      await pool.query('INSERT INTO notify_destinations (id, value, secret) VALUES ($1, $2::json, $3)', [value.id, JSON.stringify(value), secret ?? null]);
    },
    async updateDestination(id, change) {
      return transaction(async (client) => {
        const { rows } = await client.query('SELECT value, secret FROM notify_destinations WHERE id = $1 FOR UPDATE', [id]);
        if (!rows[0]) return undefined;
        const { secret, ...value } = { ...destinationOf(rows[0]), ...change };
        await client.query('UPDATE notify_destinations SET value = $2::json WHERE id = $1', [id, JSON.stringify(value)]);
        return { ...value, ...(secret !== undefined ? { secret } : {}) };
      });
    },
    async removeDestination(id) {
      return transaction(async (client) => {
        const { rowCount } = await client.query('DELETE FROM notify_destinations WHERE id = $1', [id]);
        await client.query('DELETE FROM notify_attempts WHERE destination_id = $1', [id]);
        await client.query('DELETE FROM notify_messages WHERE destination_id = $1', [id]);
        return rowCount === 1;
      });
    },
    async counts() {
      const { rows } = await pool.query<{ destination_id: string; status: string; n: number }>(
        `SELECT destination_id, status, count(*)::int AS n FROM notify_messages GROUP BY destination_id, status`,
      );
      const counts = new Map<string, DeliveryCounts>();
      for (const r of rows) {
        const c = counts.get(r.destination_id) ?? { pending: 0, failed: 0, delivered: 0 };
        if (r.status === 'pending' || r.status === 'failed' || r.status === 'delivered') c[r.status] += r.n;
        counts.set(r.destination_id, c);
      }
      return counts;
    },

    async derive(incidentId, derive) {
      return transaction(async (client) => {
        await client.query('INSERT INTO notify_incidents (incident_id) VALUES ($1) ON CONFLICT DO NOTHING', [incidentId]);
        const { rows } = await client.query<{ state: NotifiedState | null }>('SELECT state FROM notify_incidents WHERE incident_id = $1 FOR UPDATE', [incidentId]);
        const result = await derive(rows[0]?.state ?? undefined);
        if (!result) return undefined;
        const now = Date.now();
        for (const m of result.messages) await insertMessage(client, m, now, false);
        for (const item of result.digests) {
          const open = await client.query<{ id: string; event: NotificationEvent }>(
            `SELECT id, event FROM notify_messages
              WHERE destination_id = $1 AND incident_id = $2 AND digest AND status = 'pending' AND attempts = 0 AND next_at > $3
                AND (lease_until IS NULL OR lease_until < now())
              ORDER BY created_at LIMIT 1 FOR UPDATE`,
            [item.destinationId, item.incidentId, now],
          );
          const digest = open.rows[0];
          if (digest) await client.query('UPDATE notify_messages SET event = $2::json WHERE id = $1', [digest.id, JSON.stringify(withTest(digest.event, item.event))]);
          else await insertMessage(client, item, now, true);
        }
        await client.query('UPDATE notify_incidents SET seq = $2, state = $3::json, recheck_at = $4 WHERE incident_id = $1', [
          incidentId, result.state.seq, JSON.stringify(result.state), result.state.recheckAt,
        ]);
        return result;
      });
    },
    async behind() {
      const { rows } = await pool.query<{ incident_id: string }>(
        `SELECT h.incident_id FROM incident_log_heads h LEFT JOIN notify_incidents n USING (incident_id)
          WHERE h.last_seq > coalesce(n.seq, 0)`,
      );
      return rows.map((r) => r.incident_id);
    },
    async rechecksDue(now) {
      const { rows } = await pool.query<{ incident_id: string }>('SELECT incident_id FROM notify_incidents WHERE recheck_at <= $1', [now]);
      return rows.map((r) => r.incident_id);
    },

    async claimDue(owner, { now, limit, leaseMs, busy }) {
      // One message per destination per claim: a destination's messages go out one at a time, in order.
      const { rows } = await pool.query<MessageRow>(
        `WITH due AS (
           SELECT DISTINCT ON (destination_id) id FROM notify_messages
            WHERE status = 'pending' AND next_at <= $2 AND (lease_until IS NULL OR lease_until < now())
              AND destination_id <> ALL($5::text[])
            ORDER BY destination_id, next_at, created_at
         ), picked AS (
           SELECT m.id FROM notify_messages m JOIN due USING (id)
            WHERE m.status = 'pending' AND (m.lease_until IS NULL OR m.lease_until < now())
            ORDER BY m.next_at, m.created_at LIMIT $3
            FOR UPDATE OF m SKIP LOCKED
         )
         UPDATE notify_messages m SET lease_owner = $1, lease_until = now() + make_interval(secs => $4::float8 / 1000)
           FROM picked WHERE m.id = picked.id
         RETURNING ${MESSAGE_COLUMNS.split(', ').map((c) => `m.${c}`).join(', ')}`,
        [owner, now, limit, leaseMs, busy],
      );
      return rows.map(messageOf);
    },
    async renew(messageIds, owner, leaseMs) {
      if (messageIds.length === 0) return [];
      const { rows } = await pool.query<{ id: string }>(
        `UPDATE notify_messages SET lease_until = now() + make_interval(secs => $3::float8 / 1000)
          WHERE id = ANY($1::text[]) AND lease_owner = $2 AND lease_until >= now() RETURNING id`,
        [messageIds, owner, leaseMs],
      );
      return rows.map((r) => r.id);
    },
    async settle(messageId, owner, attempt, outcome) {
      return transaction(async (client) => {
        const { rows } = await client.query<MessageRow>(
          `SELECT ${MESSAGE_COLUMNS} FROM notify_messages WHERE id = $1 AND lease_owner = $2 AND lease_until >= now() FOR UPDATE`,
          [messageId, owner],
        );
        const m = rows[0];
        if (!m) return false;
        const n = m.attempts + 1;
        const status = outcome.status;
        await client.query(
          `UPDATE notify_messages SET attempts = $2, status = $3, next_at = $4, delivered_at = $5, last_error = $6, lease_owner = NULL, lease_until = NULL
            WHERE id = $1`,
          [
            messageId, n, status,
            outcome.status === 'pending' ? outcome.nextAttemptAt : null,
            outcome.status === 'delivered' ? Date.parse(attempt.at) : null,
            outcome.status === 'delivered' ? null : outcome.error,
          ],
        );
        await client.query(
          `INSERT INTO notify_attempts (message_id, n, destination_id, at, duration_ms, ok, status_code, error, excerpt)
           VALUES ($1, $2, $3, $4::timestamptz, $5, $6, $7, $8, $9)`,
          [messageId, n, m.destination_id, attempt.at, Math.round(attempt.durationMs), attempt.ok, attempt.statusCode ?? null, attempt.error ?? null, attempt.excerpt ?? null],
        );
        await client.query('DELETE FROM notify_attempts WHERE message_id = $1 AND n <= $2', [messageId, n - ATTEMPTS_KEPT]);
        return true;
      });
    },
    async retry(messageId, now) {
      const { rows } = await pool.query<MessageRow>(
        `UPDATE notify_messages SET status = 'pending', since = $2, next_at = $2
          WHERE id = $1 AND status IN ('failed', 'withheld') RETURNING ${MESSAGE_COLUMNS}`,
        [messageId, now],
      );
      if (rows[0]) return messageOf(rows[0]);
      return this.message(messageId);
    },
    async message(id) {
      const { rows } = await pool.query<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM notify_messages WHERE id = $1`, [id]);
      return rows[0] && messageOf(rows[0]);
    },
    async deliveries(destinationId, limit) {
      const { rows } = await pool.query<MessageRow>(
        `SELECT ${MESSAGE_COLUMNS} FROM notify_messages WHERE destination_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
        [destinationId, limit],
      );
      const ids = rows.map((r) => r.id);
      const attempts = await pool.query<AttemptRow>(
        `SELECT message_id, destination_id, at, duration_ms, ok, status_code, error, excerpt FROM notify_attempts
          WHERE message_id = ANY($1::text[]) ORDER BY n DESC`,
        [ids],
      );
      const logs = new Map<string, AttemptRecord[]>();
      for (const a of attempts.rows) logs.set(a.message_id, [...(logs.get(a.message_id) ?? []), attemptOf(a)]);
      return rows.map((r) => ({ ...messageOf(r), log: logs.get(r.id) ?? [] }));
    },
    close: async () => undefined,
  };
}
