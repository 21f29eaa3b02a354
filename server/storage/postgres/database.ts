/**
 * The PostgreSQL connection pool every part of the PostgreSQL mode shares, migrated at open. Queries
 * that fail because the server is unreachable are told apart (`isUnavailable`) from those PostgreSQL
 * refused: the first mean "try again later" (503, close code 4503), the second are bugs or bad input.
 */
import pg from 'pg';
import { migrate } from './migrate.js';

// bigint columns (seqs, times in ms) come back as numbers: every value we store is far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export interface Database {
  pool: pg.Pool;
  url: string;
  close(): Promise<void>;
}

export async function openDatabase(url: string, options: { max?: number } = {}): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    // A connection that stops answering is found out by TCP keepalive rather than hanging a commit.
    keepAlive: true,
    application_name: 'bridgelog',
  });
  // An idle client losing its connection (PostgreSQL restarted) must not crash the process.
  pool.on('error', () => undefined);
  await migrate(pool);
  return { pool, url, close: () => pool.end() };
}

/**
 * Runs `work` in one transaction on a client of its own. While checked out, a client has no listener
 * for its 'error' event (the pool listens only to idle ones): a connection dropping between two of the
 * transaction's queries (PostgreSQL stopped) would be an unhandled 'error' and end the process. It
 * gets one here, and a broken client (or one whose ROLLBACK failed) is destroyed rather than returned
 * to the pool.
 */
export async function transaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error) => void (broken = err);
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    // A client that cannot even roll back is not given to anyone else.
    await client.query('ROLLBACK').catch((e: Error) => void (broken = e));
    throw err;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);

/** Whether `err` says PostgreSQL could not be reached (or went away), rather than refusing the query. */
export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  if (!e) return false;
  if (e.code && UNAVAILABLE_CODES.has(e.code)) return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(e.message ?? '');
}
