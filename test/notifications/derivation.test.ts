/**
 * Deriving what to tell (#20): a destination hears only of what happens after it was made; with
 * several nodes on one PostgreSQL (under `npm run test:postgres`), changes made on either node are
 * derived by both — each event still reaches the receiver under one id, once.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createEntry, createHypothesis, setHypothesisStatus } from '../../shared/schema/doc.js';
import type { NotificationEvent } from '../../shared/notifications.js';
import { connect, synced } from '../helpers/collab-client.js';
import { ADMIN_TOKEN, tempDataDir } from '../helpers/server.js';
import { inPostgres } from '../helpers/stored.js';
import { startReceiver, type Receiver } from './receivers.js';
import { startNotifyServer, type NotifyServer } from './setup.js';

const servers: NotifyServer[] = [];
const receivers: Receiver[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
  for (const r of receivers) await r.close();
});

const dataOf = (r: Receiver) => r.accepted().map((x) => (x.json as { data: NotificationEvent }).data);

describe('deriving', () => {
  it('tells a new destination only what happens after it was made', async () => {
    const server = await startNotifyServer();
    servers.push(server);
    const before = await server.createIncident(ADMIN_TOKEN, { title: 'older incident' });
    await server.patch(`/api/incidents/${before.id}`, { severity: 'sev2' });
    const hook = await startReceiver();
    receivers.push(hook);
    await server.addDestination({ name: 'late', kind: 'webhook', url: hook.url, events: ['incident.declared', 'incident.updated', 'tests.digest'], digestMinutes: 1 });
    await server.patch(`/api/incidents/${before.id}`, { status: 'identified' });
    await expect.poll(() => dataOf(hook).map((e) => `${e.type} ${e.summary}`)).toEqual(['incident.updated Status investigating → identified']);
    await new Promise((r) => setTimeout(r, 1000));
    expect(hook.received).toHaveLength(1);
  });

  it.runIf(inPostgres)('two nodes on one PostgreSQL: each event once, whichever node made or derived it', async () => {
    const a = await startNotifyServer();
    servers.push(a);
    const b = await startNotifyServer({ DATABASE_URL: a.databaseUrl! }, tempDataDir());
    servers.push(b);
    const hook = await startReceiver();
    receivers.push(hook);
    await a.addDestination({ name: 'both', kind: 'webhook', url: hook.url, events: ['incident.declared', 'incident.updated', 'hypothesis.verdict', 'milestone.set', 'tests.digest'], digestMinutes: 1 });
    const incidents = [];
    for (let i = 0; i < 4; i++) {
      const on = i % 2 ? b : a;
      const other = i % 2 ? a : b;
      const incident = await on.createIncident(ADMIN_TOKEN, { title: `incident ${i}` });
      incidents.push(incident.id);
      // The other node changes it, and writes into its document.
      await expect.poll(async () => (await other.api('GET', `/api/incidents/${incident.id}`, { token: ADMIN_TOKEN })).status).toBe(200);
      await other.patch(`/api/incidents/${incident.id}`, { severity: 'sev1' });
      await on.api('PUT', `/api/incidents/${incident.id}/milestones/detected`, { token: ADMIN_TOKEN, body: {} });
      const c = connect(other.wsUrl, incident.id, ADMIN_TOKEN);
      await synced(c);
      setHypothesisStatus(c.doc, createHypothesis(c.doc, `cause ${i}`), 'confirmed');
      createEntry(c.doc, { kind: 'test', title: `ping ${i}`, ranAt: new Date().toISOString() });
      await c.saved();
      c.destroy();
    }
    const expected = incidents.flatMap((id) => ['incident.declared', 'incident.updated', 'milestone.set', 'hypothesis.verdict', 'tests.digest'].map((t) => `${id} ${t}`)).sort();
    await expect.poll(() => dataOf(hook).map((e) => `${e.incident.id} ${e.type}`).sort(), { timeout: 20_000 }).toEqual(expected);
    await new Promise((r) => setTimeout(r, 1500));
    const ids = hook.received.map((r) => r.headers['webhook-id']);
    expect(new Set(ids).size).toBe(expected.length);
    expect(dataOf(hook)).toHaveLength(expected.length);
  });
});
