/**
 * A real PostgreSQL for the tests of the several-node mode: one server per test file (started on first
 * use, stopped after the file), a fresh empty database for each `newDatabase()` so tests never see
 * each other's rows.
 */
import pg from 'pg';
import { afterAll } from 'vitest';
import { startPostgres, type LocalPostgres } from '../../cluster/engines.js';

export interface TestPostgres {
  /** The server (to stop and start it). Starts it if needed. */
  server(): Promise<LocalPostgres>;
  /** A new empty database on it, as a connection URL. */
  newDatabase(): Promise<string>;
}

export function usePostgres(): TestPostgres {
  let started: Promise<LocalPostgres> | undefined;
  let count = 0;
  const server = () => (started ??= startPostgres());
  afterAll(async () => {
    if (started) await (await started).destroy();
  }, 30_000);
  return {
    server,
    async newDatabase() {
      const s = await server();
      const name = `test_${process.pid}_${++count}`;
      const admin = new pg.Client(s.url);
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return s.url.replace(/\/postgres$/, `/${name}`);
    },
  };
}
