/** The InviteStore contract (invites.contract.ts) against the embedded file and PostgreSQL (two stores on one database as two nodes). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { openEmbeddedInvites } from '../../server/auth/invite-store.js';
import { openDatabase, type Database } from '../../server/storage/postgres/database.js';
import { openPgInvites } from '../../server/storage/postgres/pg-invites.js';
import { usePostgres } from '../helpers/postgres.js';
import { describeInviteContract, invite } from './invites.contract.js';

const dirs: string[] = [];
const databases: Database[] = [];
afterAll(async () => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  for (const db of databases) await db.close();
}, 30_000);

describeInviteContract('embedded (invites.json)', {
  async fresh() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridgelog-invites-'));
    dirs.push(dir);
    return { open: () => openEmbeddedInvites(dir) };
  },
});

const postgres = usePostgres();
async function pgStore(url: string) {
  const db = await openDatabase(url, { max: 4 });
  databases.push(db);
  return openPgInvites(db.pool);
}
describeInviteContract('postgresql', {
  async fresh() {
    const url = await postgres.newDatabase();
    return { open: () => pgStore(url) };
  },
});

it('postgresql: two nodes redeeming one invite at once give it to one of them', async () => {
  const url = await postgres.newDatabase();
  const [a, b] = [await pgStore(url), await pgStore(url)];
  const i = invite();
  await a.add(i);
  const results = await Promise.all([a, b, a, b].map((s, k) => s.redeem(i.tokenHash, `u${k}`, new Date().toISOString())));
  expect(results.filter((r) => r.ok)).toHaveLength(1);
}, 60_000);
