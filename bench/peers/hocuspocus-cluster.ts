/**
 * Hocuspocus as one instance of several, the way its documentation scales it out: `@hocuspocus/server`
 * 3.4.4 with `@hocuspocus/extension-redis` 3.4.4 (documents kept in step between instances over Redis
 * pub/sub; a Redis lock so that one instance stores a document at a time) and
 * `@hocuspocus/extension-database` 3.4.4 storing each document's whole state as bytea in PostgreSQL.
 * Everything else at Hocuspocus's defaults: a document is stored 2 s after its last change, and at
 * least every 10 s while changes keep coming (debounce / maxDebounce). Only changes from an instance's
 * own clients schedule a store there; changes that reached it through Redis never do (when it stores,
 * it stores its whole copy).
 *
 * Env: PORT, NODE_ID, DATABASE_URL, REDIS_URL. Listens on 127.0.0.1:$PORT, any path (the orchestrator
 * uses /collab/<document>, so HAProxy's hash on the path works as it does for Bridgelog). Answers the
 * memory probe and `{ type: 'connections' }` over IPC.
 */
import { Server } from '@hocuspocus/server';
import { Database } from '@hocuspocus/extension-database';
import { Redis } from '@hocuspocus/extension-redis';
import pg from 'pg';
import { countDocsWith } from './probe.js';

export interface ConnectionsReply {
  type: 'connections';
  count: number;
}

const port = Number(process.env.PORT);
const name = process.env.NODE_ID ?? `hocuspocus-${port}`;
const redis = new URL(process.env.REDIS_URL!);
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 });
// One row per document: its state, and how many times it was stored (the benchmark counts stores).
// (The first instance is started alone: concurrent CREATE TABLE IF NOT EXISTS can collide.)
await pool.query(`CREATE TABLE IF NOT EXISTS hocuspocus_documents (name text PRIMARY KEY, state bytea NOT NULL, stores bigint NOT NULL DEFAULT 1)`);

const server = new Server({
  name,
  port,
  address: '127.0.0.1',
  quiet: true,
  stopOnSignals: false,
  extensions: [
    new Redis({ host: redis.hostname, port: Number(redis.port), identifier: name }),
    new Database({
      fetch: async ({ documentName }) => {
        const { rows } = await pool.query<{ state: Buffer }>('SELECT state FROM hocuspocus_documents WHERE name = $1', [documentName]);
        return rows[0] ? new Uint8Array(rows[0].state) : null;
      },
      store: async ({ documentName, state }) => {
        await pool.query(
          `INSERT INTO hocuspocus_documents (name, state) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET state = excluded.state, stores = hocuspocus_documents.stores + 1`,
          [documentName, state],
        );
      },
    }),
  ],
});
await server.listen();
countDocsWith(() => server.hocuspocus.getDocumentsCount());
process.on('message', (m: { type?: string }) => {
  if (m?.type === 'connections') process.send!({ type: 'connections', count: server.hocuspocus.getConnectionsCount() } satisfies ConnectionsReply);
});
process.on('SIGTERM', () => process.exit(0));
console.log(JSON.stringify({ ready: 'hocuspocus-cluster', name, port }));
