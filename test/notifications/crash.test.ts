/**
 * Nothing lost, nothing doubled for the receiver (#20): the server is SIGKILLed between changes and
 * their delivery, twice, while the receiver fails every request; after the restarts every message
 * arrives, and after deduplication by webhook-id each event is there exactly once (one id per
 * event, the same id on every attempt and after re-derivation).
 */
import { Webhook } from 'standardwebhooks';
import { afterAll, expect, it } from 'vitest';
import { createEntry, createHypothesis, entryText, setHypothesisStatus } from '../../shared/schema/doc.js';
import type { CreatedDestination, NotificationEvent } from '../../shared/notifications.js';
import { api } from '../helpers/api.js';
import { connect, synced } from '../helpers/collab-client.js';
import { freePort, startChildServer, type ChildServer } from '../helpers/child-server.js';
import { ADMIN_TOKEN, databaseFor, tempDataDir } from '../helpers/server.js';
import { startReceiver, type Receiver } from './receivers.js';
import { FAST_NOTIFY } from './setup.js';

let child: ChildServer | undefined;
let receiver: Receiver | undefined;
afterAll(async () => {
  child?.process.kill('SIGKILL');
  await receiver?.close();
});

async function kill(c: ChildServer): Promise<void> {
  c.process.kill('SIGKILL');
  expect(await c.exited).toBe('SIGKILL');
}

it('delivers every message after SIGKILLs between the changes and their delivery, each id once', async () => {
  let failing = true;
  receiver = await startReceiver(() => (failing ? { status: 500 } : { status: 200 }));
  const dataDir = tempDataDir();
  const port = String(await freePort());
  const env = {
    ...FAST_NOTIFY, ...(await databaseFor(dataDir)), // a database of its own under test:postgres
    DATA_DIR: dataDir, PORT: port, BRIDGELOG_BOOTSTRAP_TOKEN: ADMIN_TOKEN,
    // Long enough for the kill to come before most derivations.
    NOTIFY_DERIVE_DELAY: '1500ms', NOTIFY_SWEEP: '10s', NOTIFY_CONCLUSION_QUIET: '1s', NOTIFY_GIVE_UP_AFTER: '10m',
  };
  child = await startChildServer(env);
  const dest = await api<CreatedDestination>(child.url, 'POST', '/api/notifications/destinations', ADMIN_TOKEN, {
    name: 'receiver', kind: 'webhook', url: receiver.url, digestMinutes: 1,
    events: ['incident.declared', 'incident.updated', 'milestone.set', 'conclusion.written', 'hypothesis.verdict', 'tests.digest'],
  });
  const expected = new Set<string>();

  for (let round = 0; round < 2; round++) {
    const incident = await api<{ id: string }>(child.url, 'POST', '/api/incidents', ADMIN_TOKEN, { title: `round ${round}`, severity: 'sev3' });
    expected.add(`${incident.id} incident.declared`);
    await api(child.url, 'PATCH', `/api/incidents/${incident.id}`, ADMIN_TOKEN, { severity: 'sev1' });
    expected.add(`${incident.id} incident.updated severity`);
    await api(child.url, 'PUT', `/api/incidents/${incident.id}/milestones/detected`, ADMIN_TOKEN, {});
    expected.add(`${incident.id} milestone.set detected`);
    const c = connect(child.url.replace(/^http/, 'ws'), incident.id, ADMIN_TOKEN);
    await synced(c);
    const h = createHypothesis(c.doc, `cause ${round}`);
    setHypothesisStatus(c.doc, h, 'ruled-out');
    expected.add(`${incident.id} hypothesis.verdict ${h}`);
    for (const title of ['ping', 'mtr']) createEntry(c.doc, { kind: 'test', title, ranAt: new Date().toISOString() });
    expected.add(`${incident.id} tests.digest ping,mtr`);
    const entry = createEntry(c.doc, { kind: 'conclusion', title: 'why', ranAt: new Date().toISOString() });
    entryText(c.doc, entry, 'conclusion')!.insert(0, `It was the optic, round ${round}.`);
    expected.add(`${incident.id} conclusion.written ${entry}`);
    await c.saved(); // durable: acknowledged by the server
    c.destroy();
    // Some of it derived and attempted (failing), some not yet derived at all: killed now.
    if (round === 1) await expect.poll(() => receiver!.received.length, { timeout: 10_000 }).toBeGreaterThan(0);
    await kill(child);
    child = await startChildServer(env);
  }

  // The receiver comes back; everything arrives.
  failing = false;
  const wh = new Webhook(dest.secret!);
  const keyOf = (e: NotificationEvent) => {
    switch (e.type) {
      case 'incident.updated':
        return `${e.incident.id} ${e.type} ${e.changes!.map((x) => x.field).join(',')}`;
      case 'milestone.set':
        return `${e.incident.id} ${e.type} ${e.milestone!.name}`;
      case 'hypothesis.verdict':
        return `${e.incident.id} ${e.type} ${e.hypothesis!.id}`;
      case 'tests.digest':
        return `${e.incident.id} ${e.type} ${e.tests!.map((t) => t.title).join(',')}`;
      case 'conclusion.written':
        return `${e.incident.id} ${e.type} ${e.entry!.id}`;
      default:
        return `${e.incident.id} ${e.type}`;
    }
  };
  const delivered = () => {
    const byId = new Map<string, string>();
    for (const r of receiver!.accepted()) {
      wh.verify(r.body, r.headers as Record<string, string>);
      byId.set(String(r.headers['webhook-id']), keyOf((r.json as { data: NotificationEvent }).data));
    }
    return byId;
  };
  await expect.poll(() => new Set(delivered().values()), { timeout: 30_000 }).toEqual(expected);
  // Each event under one id only: deduplicated by webhook-id, nothing is there twice.
  await new Promise((r) => setTimeout(r, 1500));
  const byId = delivered();
  expect([...byId.values()].sort()).toEqual([...expected].sort());
  expect(byId.size).toBe(expected.size);
  // And it had to try: every id was refused at least once before the receiver came back, or derived after.
  expect(receiver.received.length).toBeGreaterThan(byId.size);
  const deliveries = await api<Array<{ status: string }>>(child.url, 'GET', `/api/notifications/deliveries?destination=${dest.id}`, ADMIN_TOKEN);
  expect(deliveries.map((d) => d.status)).toEqual(Array(expected.size).fill('delivered'));
});
