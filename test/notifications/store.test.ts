/** The NotificationStore contract (store.contract.ts) against the embedded file and PostgreSQL (two stores on one database as two nodes). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { openEmbeddedNotifications } from '../../server/storage/embedded/embedded-notifications.js';
import { openDatabase, type Database } from '../../server/storage/postgres/database.js';
import { openPgNotifications } from '../../server/storage/postgres/pg-notifications.js';
import { usePostgres } from '../helpers/postgres.js';
import { describeStoreContract } from './store.contract.js';

const dirs: string[] = [];
const databases: Database[] = [];
afterAll(async () => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  for (const db of databases) await db.close();
}, 30_000);

describeStoreContract('embedded (JSON-lines file)', {
  shared: false,
  async fresh() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridgelog-notify-'));
    dirs.push(dir);
    return { open: () => openEmbeddedNotifications(dir) };
  },
});

const postgres = usePostgres();
describeStoreContract('postgresql', {
  shared: true,
  async fresh() {
    const url = await postgres.newDatabase();
    return {
      async open() {
        const db = await openDatabase(url, { max: 4 });
        databases.push(db);
        return openPgNotifications(db.pool);
      },
    };
  },
});
