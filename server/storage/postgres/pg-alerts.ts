/**
 * AlertStore in PostgreSQL: integrations and alert records held by every node as replicas
 * (catalog-feed.ts), raw payloads only appended (no node reads them back).
 *
 * Alert records are handed out as copies, not frozen: the alert receiver changes the record it got and
 * passes it to saveAlerts, and that is how it must keep working. Each node holds an alert as its JSON
 * text; every getter parses a fresh copy (some 3 µs an alert), so nothing a caller does to one reaches
 * the replica or another caller. Integrations are frozen, like the metadata.
 *
 * As in the embedded store: a record under a new id whose (source, fingerprint) is already stored
 * under another id is not stored (the stored one stands; the embedded store keeps it out of every
 * lookup too), a revoked integration keeps its first revocation time, and the order of alerts() is the
 * order alerts were first stored.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { AlertRecord, AlertStore, IntegrationRecord } from '../../alerts/alert-store.js';
import { frozenRecord, readByKey, Replica, updateRow, type CatalogFeed, type StoredRow } from './catalog-feed.js';

interface HeldAlert {
  /** `${source}/${fingerprint}` */
  fp: string;
  text: string;
}

const fpOf = (a: { source: string; fingerprint: string }) => `${a.source}/${a.fingerprint}`;
/**
 * The fingerprint as the `fingerprint` column holds it (only its unique index reads it): as a JSON
 * string, because a sender's fingerprint may hold \u0000, which a text column refuses.
 */
const fingerprintColumn = (fingerprint: string) => JSON.stringify(fingerprint);

export async function openPgAlerts(pool: pg.Pool, feed: CatalogFeed, options: { log?: Logger } = {}): Promise<AlertStore> {
  const integrations = await Replica.open<IntegrationRecord>({
    feed,
    log: options.log,
    table: 'alert_integrations',
    read: readByKey(pool, 'alert_integrations', 'id'),
    decode: frozenRecord,
    indexes: { hash: (i) => i.tokenHash },
  });
  let alerts: Replica<HeldAlert>;
  try {
    alerts = await Replica.open<HeldAlert>({
      feed,
      log: options.log,
      table: 'alerts',
      read: readByKey(pool, 'alerts', 'id'),
      decode: (row) => ({ fp: fpOf(JSON.parse(row.value) as AlertRecord), text: row.value }),
      indexes: { fp: (a) => a.fp },
    });
  } catch (err) {
    await integrations.close();
    throw err;
  }
  const copy = (held: HeldAlert | undefined) => (held ? (JSON.parse(held.text) as AlertRecord) : undefined);

  return {
    integrations: () => integrations.values(),
    integrationByTokenHash(hash) {
      const integration = integrations.by('hash', hash);
      return integration && !integration.revokedAt ? integration : undefined;
    },
    async addIntegration(integration) {
      const value = JSON.stringify(integration);
      const { rows } = await pool.query<{ pos: number; version: number }>(
        'INSERT INTO alert_integrations (id, token_hash, value) VALUES ($1, $2, $3) RETURNING pos, version',
        [integration.id, integration.tokenHash, value],
      );
      integrations.committed([{ key: integration.id, pos: rows[0]!.pos, version: rows[0]!.version, value }]);
    },
    async revokeIntegration(id) {
      const held = integrations.entry(id);
      // Revoked already: the first revocation stands.
      if (held?.value.revokedAt != null) return held.value;
      const at = new Date().toISOString();
      const result = await updateRow<IntegrationRecord>(
        pool, 'alert_integrations', 'id', id,
        held && { version: held.version, value: { ...held.value, revokedAt: at } },
        (i) => (i.revokedAt != null ? undefined : { ...i, revokedAt: at }),
      );
      return result && integrations.committed([result.row])[0];
    },

    alerts: () => alerts.values().map((a) => JSON.parse(a.text) as AlertRecord),
    alertById: (id) => copy(alerts.get(id)),
    alertByFingerprint: (source, fingerprint) => copy(alerts.by('fp', fpOf({ source, fingerprint }))),
    async saveAlerts(changed) {
      // One row per id, the last given (as the last line of an id wins in the embedded log).
      const byId = new Map(changed.map((a) => [a.id, a]));
      if (byId.size === 0) return;
      const list = [...byId.values()];
      const texts = list.map((a) => JSON.stringify(a));
      // Existing ids are updated; new ones inserted, unless their fingerprint is stored already.
      const { rows } = await pool.query<{ id: string; pos: number; version: number }>(
        `WITH input AS (
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::json[]) AS i(id, source, fingerprint, value)
         ), updated AS (
           UPDATE alerts a SET source = i.source, fingerprint = i.fingerprint, value = i.value FROM input i WHERE a.id = i.id
           RETURNING a.id, a.pos, a.version
         ), inserted AS (
           INSERT INTO alerts (id, source, fingerprint, value)
           SELECT i.id, i.source, i.fingerprint, i.value FROM input i WHERE i.id NOT IN (SELECT id FROM updated)
           ON CONFLICT DO NOTHING
           RETURNING id, pos, version
         )
         SELECT id, pos, version FROM updated UNION ALL SELECT id, pos, version FROM inserted`,
        [list.map((a) => a.id), list.map((a) => a.source), list.map((a) => fingerprintColumn(a.fingerprint)), texts],
      );
      const textOf = new Map(list.map((a, i) => [a.id, texts[i]!]));
      alerts.committed(rows.map((r): StoredRow => ({ key: r.id, pos: r.pos, version: r.version, value: textOf.get(r.id)! })));
    },

    async keepRaw(entry) {
      await pool.query('INSERT INTO alert_raw (id, received_at, integration_id, source, payload) VALUES ($1, $2::timestamptz, $3, $4, $5::json)', [
        entry.id,
        entry.receivedAt,
        entry.integrationId,
        entry.source,
        JSON.stringify(entry.payload) ?? null,
      ]);
    },
    async close() {
      await Promise.all([integrations.close(), alerts.close()]);
    },
  };
}
