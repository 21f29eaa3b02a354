/** The search engine contract against PostgreSQL full-text search (a fresh database per engine). */
import { afterAll } from 'vitest';
import { openDatabase, type Database } from '../../server/storage/postgres/database.js';
import { migrate } from '../../server/storage/postgres/migrate.js';
import { PgSearchEngine } from '../../server/search/postgres/pg-search-engine.js';
import { usePostgres } from '../helpers/postgres.js';
import { describeSearchEngineContract } from './search-engine.contract.js';

const postgres = usePostgres();
const databases: Database[] = [];
afterAll(async () => {
  await Promise.all(databases.map((db) => db.close()));
}, 30_000);

describeSearchEngineContract('PostgreSQL full-text', async () => {
  const db = await openDatabase(await postgres.newDatabase());
  databases.push(db);
  await migrate(db.pool);
  return new PgSearchEngine(db.pool);
});
