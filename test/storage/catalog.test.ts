/**
 * The catalog contract (catalog.contract.ts) against the embedded stores (lowdb files in a temp dir)
 * and PostgreSQL; then what only a catalog shared by several nodes must show: a change on one node is
 * seen on another within a second, removals included, also when it was made while that node's feed
 * had lost its connection (killed, or silent), and two nodes writing one record at once lose nothing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { AccessChange } from '../../server/auth/access-changes.js';
import { openLowdbAlerts } from '../../server/alerts/alert-store.js';
import { openLowdbAttachments } from '../../server/attachments/attachment-store.js';
import { CatalogFeed, type CatalogFeedOptions } from '../../server/storage/postgres/catalog-feed.js';
import { openDatabase, type Database } from '../../server/storage/postgres/database.js';
import { openPgAlerts } from '../../server/storage/postgres/pg-alerts.js';
import { openPgAttachments } from '../../server/storage/postgres/pg-attachments.js';
import { openPgMetadata } from '../../server/storage/postgres/pg-metadata.js';
import { openPgSeenMarks } from '../../server/storage/postgres/pg-seen-marks.js';
import { openLowdbMetadata } from '../../server/store/metadata.js';
import { openLowdbSeenMarks } from '../../server/store/seen-marks.js';
import { usePostgres } from '../helpers/postgres.js';
import {
  alertRecord, attachmentRecord, describeCatalogContract, incidentRecord, integrationRecord, sessionRecord, tokenRecord, userRecord,
  type CatalogStores, type RawEntry,
} from './catalog.contract.js';
import { describeSignInContract } from './sign-in.contract.js';

// ------------------------------------------------------------------------------------------- embedded

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

const embeddedFixture: Parameters<typeof describeCatalogContract>[1] = {
  // The embedded stores hand out their live records (the alert receiver changes them in place).
  isolatesValues: false,
  async fresh() {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridgelog-catalog-'));
    dirs.push(dataDir);
    return {
      async open() {
        const [metadata, alerts, seen, attachments] = await Promise.all([
          openLowdbMetadata(path.join(dataDir, 'bridgelog.json')),
          openLowdbAlerts(dataDir),
          openLowdbSeenMarks(dataDir),
          openLowdbAttachments(dataDir),
        ]);
        return {
          metadata, alerts, seen, attachments,
          async close() {
            await Promise.all([metadata.close(), alerts.close(), seen.close(), attachments.close()]);
          },
        };
      },
      async rawPayloads() {
        const text = fs.readFileSync(path.join(dataDir, 'alerts-raw.jsonl'), 'utf8');
        return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as RawEntry);
      },
    };
  },
};
describeCatalogContract('embedded (lowdb files)', embeddedFixture);
describeSignInContract('embedded (lowdb files)', embeddedFixture);

// ----------------------------------------------------------------------------------------- PostgreSQL

const postgres = usePostgres();

interface PgNode extends CatalogStores {
  db: Database;
  feed: CatalogFeed;
}
const nodes = new Set<PgNode>();
afterAll(async () => {
  for (const n of nodes) await n.close();
}, 30_000);

/** A node on the database: its own pool, its own feed, the four stores. */
async function pgNode(url: string, feedOptions: CatalogFeedOptions = {}, flushUsesMs?: number): Promise<PgNode> {
  const db = await openDatabase(url, { max: 4 });
  const feed = await CatalogFeed.open(url, undefined, feedOptions);
  const [metadata, alerts, seen, attachments] = await Promise.all([
    openPgMetadata(db.pool, feed, { flushUsesMs }),
    openPgAlerts(db.pool, feed),
    openPgSeenMarks(db.pool, feed),
    openPgAttachments(db.pool, feed),
  ]);
  let closed: Promise<void> | undefined;
  const node: PgNode = {
    db, feed, metadata, alerts, seen, attachments,
    close: () =>
      (closed ??= (async () => {
        nodes.delete(node);
        await Promise.all([metadata.close(), alerts.close(), seen.close(), attachments.close()]);
        await feed.close();
        await db.close();
      })()),
  };
  nodes.add(node);
  return node;
}

const postgresFixture: Parameters<typeof describeCatalogContract>[1] = {
  isolatesValues: true,
  async fresh() {
    const url = await postgres.newDatabase();
    return {
      open: () => pgNode(url),
      async rawPayloads() {
        const client = new pg.Client(url);
        await client.connect();
        try {
          const { rows } = await client.query<{ id: string; integration_id: string; source: string; payload: string }>(
            'SELECT id, integration_id, source, payload::text AS payload FROM alert_raw ORDER BY received_at, id',
          );
          return rows.map((r) => ({ id: r.id, integrationId: r.integration_id, source: r.source, payload: JSON.parse(r.payload) as unknown }));
        } finally {
          await client.end();
        }
      },
    };
  },
};
describeCatalogContract('postgresql', postgresFixture);
describeSignInContract('postgresql', postgresFixture);

/** What another node sees must be there within a second. */
const SOON = { timeout: 1_000, interval: 20 };

describe('PostgreSQL catalog shared by several nodes', () => {
  async function twoNodes(bOptions: CatalogFeedOptions = {}) {
    const url = await postgres.newDatabase();
    const a = await pgNode(url);
    const b = await pgNode(url, bOptions);
    const accessChangesOnB: AccessChange[] = [];
    b.feed.onRemoteAccessChange((change) => accessChangesOnB.push(change));
    return { url, a, b, accessChangesOnB };
  }

  it('sees users, tokens and sessions added on another node, and their revocation and removal', async () => {
    const { a, b, accessChangesOnB } = await twoNodes();
    const kim = userRecord('kim');
    await a.metadata.addUser(kim);
    await expect.poll(() => b.metadata.userByName('kim'), SOON).toEqual(kim);
    expect(b.metadata.countUsers()).toBe(1);

    const [t1, t2] = [tokenRecord(kim.id), tokenRecord(kim.id)];
    await a.metadata.addToken(t1);
    await a.metadata.addToken(t2);
    const [s1, s2] = [sessionRecord(kim.id), sessionRecord(kim.id)];
    await a.metadata.addSession(s1);
    await a.metadata.addSession(s2);
    await expect.poll(() => b.metadata.tokensOf(kim.id), SOON).toEqual([t1, t2]);
    await expect.poll(() => b.metadata.sessionByTokenHash(s2.tokenHash), SOON).toEqual(s2);
    expect(accessChangesOnB).toEqual([]);

    // A revoked token and an ended session stop working on the other node too, and it is told.
    expect(await a.metadata.removeTokens({ id: t1.id })).toEqual([t1]);
    await expect.poll(() => b.metadata.tokenByHash(t1.tokenHash), SOON).toBeUndefined();
    expect(b.metadata.tokenByHash(t2.tokenHash)).toEqual(t2);
    await a.metadata.removeSession(s1.tokenHash);
    await expect.poll(() => b.metadata.sessionByTokenHash(s1.tokenHash), SOON).toBeUndefined();
    expect(accessChangesOnB).toEqual([{ userId: kim.id }, { userId: kim.id }]);

    // Removing the user: role, tokens and sessions, all of it seen there.
    await a.metadata.updateUser(kim.id, { deactivatedAt: new Date().toISOString() });
    await a.metadata.removeSessionsOf(kim.id);
    await a.metadata.removeTokens({ userId: kim.id });
    await expect.poll(() => b.metadata.userById(kim.id)?.deactivatedAt, SOON).toBeDefined();
    await expect.poll(() => b.metadata.tokenByHash(t2.tokenHash), SOON).toBeUndefined();
    await expect.poll(() => b.metadata.sessionByTokenHash(s2.tokenHash), SOON).toBeUndefined();
    expect(accessChangesOnB.slice(2)).toEqual([{ userId: kim.id }, { userId: kim.id }, { userId: kim.id }]);
    expect(b.metadata.tokensOf(kim.id)).toEqual([]);
  });

  it('sees incidents, alerts, integrations, seen marks and attachments changed on another node', async () => {
    const { a, b, accessChangesOnB } = await twoNodes();
    const incident = incidentRecord('packet loss ny');
    await a.metadata.addIncident(incident);
    await expect.poll(() => b.metadata.incidentById(incident.id), SOON).toEqual(incident);
    await b.metadata.updateIncident(incident.id, { members: ['u_kim'] });
    await expect.poll(() => a.metadata.incidentById(incident.id)?.members, SOON).toEqual(['u_kim']);
    await a.metadata.updateIncident(incident.id, { members: undefined, title: 'packet loss ny+sf' });
    await expect.poll(() => b.metadata.incidentById(incident.id), SOON).toEqual({ ...incident, title: 'packet loss ny+sf' });
    // b is told that access to this incident changed. Its own change may be told too, when the
    // notification of its commit overtakes the commit's reply (a re-check of its sockets, harmless).
    expect(accessChangesOnB).toContainEqual({ incidentId: incident.id });
    expect(new Set(accessChangesOnB.map((c) => JSON.stringify(c)))).toEqual(new Set([JSON.stringify({ incidentId: incident.id })]));

    const am = integrationRecord('am');
    await a.alerts.addIntegration(am);
    await expect.poll(() => b.alerts.integrationByTokenHash(am.tokenHash), SOON).toEqual(am);
    await a.alerts.revokeIntegration(am.id);
    await expect.poll(() => b.alerts.integrationByTokenHash(am.tokenHash), SOON).toBeUndefined();
    expect(b.alerts.integrations()[0]!.revokedAt).toBeDefined();

    const alert = alertRecord('fp-link');
    await a.alerts.saveAlerts([alert]);
    await expect.poll(() => b.alerts.alertByFingerprint('alertmanager', 'fp-link'), SOON).toEqual(alert);
    const onB = b.alerts.alertByFingerprint('alertmanager', 'fp-link')!;
    onB.incidents.push(incident.id);
    await b.alerts.saveAlerts([onB]);
    await expect.poll(() => a.alerts.alertById(alert.id)?.incidents, SOON).toEqual([incident.id]);

    await a.seen.set('u_kim', incident.id, { seq: 12, at: 'a' });
    await expect.poll(() => b.seen.get('u_kim', incident.id), SOON).toEqual({ seq: 12, at: 'a' });

    const file = attachmentRecord(incident.id, 'ping.txt');
    await b.attachments.add(file);
    await expect.poll(() => a.attachments.forIncident(incident.id), SOON).toEqual([file]);
  });

  it('never takes a seen mark back, set on two nodes at once', async () => {
    const { a, b } = await twoNodes();
    for (let round = 0; round < 10; round++) {
      const incident = `inc_${round}`;
      // Neither node knows the other's mark when it writes its own: PostgreSQL keeps the later.
      await Promise.all([a.seen.set('u_kim', incident, { seq: 20, at: 'a' }), b.seen.set('u_kim', incident, { seq: 10, at: 'b' })]);
      for (const node of [a, b]) await expect.poll(() => node.seen.get('u_kim', incident), SOON).toEqual({ seq: 20, at: 'a' });
    }
  });

  it('keeps both of two changes to one record made on two nodes at once', async () => {
    const { a, b } = await twoNodes();
    const incident = incidentRecord('db failover');
    await a.metadata.addIncident(incident);
    await expect.poll(() => b.metadata.incidentById(incident.id), SOON).toBeDefined();
    for (let round = 0; round < 10; round++) {
      const [onA, onB] = await Promise.all([
        a.metadata.updateIncident(incident.id, { title: `title ${round}` }),
        b.metadata.updateIncident(incident.id, { alertMatchers: [`round=${round}`] }),
      ]);
      expect(onA!.title).toBe(`title ${round}`);
      expect(onB!.alertMatchers).toEqual([`round=${round}`]);
      const both = { ...incident, title: `title ${round}`, alertMatchers: [`round=${round}`] };
      for (const node of [a, b]) await expect.poll(() => node.metadata.incidentById(incident.id), SOON).toEqual(both);
    }
  });

  it('writes the last use of a token noted on one node, for the others to see', async () => {
    const url = await postgres.newDatabase();
    const a = await pgNode(url, {}, 100);
    const b = await pgNode(url);
    const token = tokenRecord('u_kim');
    await a.metadata.addToken(token);
    await expect.poll(() => b.metadata.tokenByHash(token.tokenHash), SOON).toBeDefined();
    a.metadata.tokenUsed(token.id);
    const lastUsedAt = a.metadata.tokenByHash(token.tokenHash)!.lastUsedAt;
    expect(lastUsedAt).toBeDefined();
    await expect.poll(() => b.metadata.tokenByHash(token.tokenHash)?.lastUsedAt).toBe(lastUsedAt);
    // Reading back its own write leaves A's noted use as it was.
    expect(a.metadata.tokenByHash(token.tokenHash)!.lastUsedAt).toBe(lastUsedAt);
  });

  it('sees a change made while its feed had lost its connection, once the feed is back', async () => {
    const { a, b, accessChangesOnB } = await twoNodes({ reconnectDelayMs: 1_000 });
    const kim = userRecord('kim');
    await a.metadata.addUser(kim);
    const token = tokenRecord(kim.id);
    await a.metadata.addToken(token);
    const incident = incidentRecord('dns outage', { members: [kim.id] });
    await a.metadata.addIncident(incident);
    await expect.poll(() => b.metadata.tokenByHash(token.tokenHash), SOON).toEqual(token);
    await expect.poll(() => b.metadata.incidentById(incident.id), SOON).toEqual(incident);

    const pid = b.feed.backendPid!;
    expect(pid).toBeGreaterThan(0);
    const { rows } = await a.db.pool.query<{ killed: boolean }>('SELECT pg_terminate_backend($1) AS killed', [pid]);
    expect(rows[0]!.killed).toBe(true);
    await expect.poll(() => b.feed.connected, SOON).toBe(false);

    // Made while B hears nothing: its notifications are lost to B.
    const lee = userRecord('lee');
    await a.metadata.addUser(lee);
    await a.metadata.removeTokens({ id: token.id });
    await a.metadata.updateIncident(incident.id, { members: [lee.id] });
    const alert = alertRecord('fp-while-away');
    await a.alerts.saveAlerts([alert]);
    await a.seen.set(kim.id, incident.id, { seq: 5, at: 'x' });
    expect(b.feed.connected).toBe(false);
    expect(b.metadata.tokenByHash(token.tokenHash)).toEqual(token);

    await expect.poll(() => b.feed.connected, { timeout: 5_000 }).toBe(true);
    expect(b.feed.backendPid).not.toBe(pid);
    expect(b.feed.reconnections).toBe(1);
    await expect.poll(() => b.metadata.tokenByHash(token.tokenHash), SOON).toBeUndefined();
    await expect.poll(() => b.metadata.userByName('lee'), SOON).toEqual(lee);
    await expect.poll(() => b.metadata.incidentById(incident.id)?.members, SOON).toEqual([lee.id]);
    await expect.poll(() => b.alerts.alertById(alert.id), SOON).toEqual(alert);
    await expect.poll(() => b.seen.get(kim.id, incident.id), SOON).toEqual({ seq: 5, at: 'x' });
    // Found on the reload: B's sockets are checked again.
    expect(accessChangesOnB).toEqual(expect.arrayContaining([{ userId: kim.id }, { incidentId: incident.id }]));

    // And it hears of changes again.
    await a.metadata.removeSessionsOf(kim.id);
    const session = sessionRecord(lee.id);
    await a.metadata.addSession(session);
    await expect.poll(() => b.metadata.sessionByTokenHash(session.tokenHash), SOON).toEqual(session);
  });

  it('replaces a LISTEN connection that stops answering, and reads what it missed', async () => {
    const { a, b } = await twoNodes({ pingMs: 200, reconnectDelayMs: 50 });
    const token = tokenRecord('u_kim');
    await a.metadata.addToken(token);
    await expect.poll(() => b.metadata.tokenByHash(token.tokenHash), SOON).toEqual(token);
    // Its backend frozen, as behind a dead link: the connection stays open and says nothing.
    const pid = b.feed.backendPid!;
    process.kill(pid, 'SIGSTOP');
    try {
      await a.metadata.removeTokens({ id: token.id });
      await expect.poll(() => b.feed.reconnections, { timeout: 5_000 }).toBe(1);
      expect(b.feed.backendPid).not.toBe(pid);
      await expect.poll(() => b.metadata.tokenByHash(token.tokenHash), SOON).toBeUndefined();
    } finally {
      process.kill(pid, 'SIGCONT');
      await a.db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
    }
  });

  it('after caughtUp(), holds every change another node committed before the call (no waiting for the notification)', async () => {
    const { a, b } = await twoNodes();
    // Without the barrier, B would not know the token for the few milliseconds its notification
    // takes: a client sent to B right after A created it would be refused.
    for (let i = 0; i < 20; i++) {
      const kim = userRecord(`kim-${i}`);
      await a.metadata.addUser(kim);
      const token = tokenRecord(kim.id);
      await a.metadata.addToken(token);
      const incident = incidentRecord(`outage ${i}`, { members: [kim.id] });
      await a.metadata.addIncident(incident);
      await b.feed.caughtUp();
      expect(b.metadata.tokenByHash(token.tokenHash)).toEqual(token);
      expect(b.metadata.incidentById(incident.id)).toEqual(incident);
    }
  });

  it('caughtUp() while its feed is reconnecting waits for the reconnection and the whole-table reads', async () => {
    const { a, b } = await twoNodes({ reconnectDelayMs: 500 });
    const pid = b.feed.backendPid!;
    await a.db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
    await expect.poll(() => b.feed.connected, SOON).toBe(false);
    const lee = userRecord('lee');
    await a.metadata.addUser(lee);
    const incident = incidentRecord('made while B was deaf');
    await a.metadata.addIncident(incident);
    // Many callers at once share the barrier.
    await Promise.all(Array.from({ length: 50 }, () => b.feed.caughtUp()));
    expect(b.feed.connected).toBe(true);
    expect(b.metadata.userByName('lee')).toEqual(lee);
    expect(b.metadata.incidentById(incident.id)).toEqual(incident);
  });
});
