/**
 * Brings the database to the schema this version needs, at start, under an advisory lock: nodes that
 * start together wait for each other instead of racing, and each migration is applied once, in its own
 * transaction, recorded in bridgelog_migrations. A database newer than this code (a migration it does
 * not know) is refused rather than written to.
 */
import type pg from 'pg';
import { migrations } from './migrations/index.js';

const LOCK = 0x6272_6c67; // "brlg"

export async function migrate(pool: pg.Pool): Promise<{ applied: string[] }> {
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS bridgelog_migrations (id int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await client.query<{ id: number }>('SELECT id FROM bridgelog_migrations')).rows.map((r) => r.id));
    const known = new Set(migrations.map((m) => m.id));
    const unknown = [...done].filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new Error(`the database has migrations this version of Bridgelog does not know (${unknown.join(', ')}): it was used by a newer version; run that version`);
    }
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO bridgelog_migrations (id, name) VALUES ($1, $2)', [m.id, m.name]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${m.id} (${m.name}) failed: ${(err as Error).message}`);
      }
      applied.push(`${m.id} ${m.name}`);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK]).catch(() => undefined);
    client.release();
  }
  return { applied };
}
