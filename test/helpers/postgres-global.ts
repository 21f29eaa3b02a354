/**
 * vitest globalSetup for `npm run test:postgres`: one real PostgreSQL for the run; every test server
 * gets its own database on it (test/helpers/server.ts).
 */
import { startPostgres, type LocalPostgres } from '../../cluster/engines.js';

let pg: LocalPostgres | undefined;

export async function setup(): Promise<void> {
  pg = await startPostgres();
  process.env.BRIDGELOG_TEST_POSTGRES = pg.url;
}

export async function teardown(): Promise<void> {
  await pg?.destroy();
}
