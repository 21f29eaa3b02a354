/**
 * What a NotificationStore promises (server/notifications/notification-store.ts), written once and
 * run against the embedded file and PostgreSQL (store.test.ts): a derivation's state and messages
 * are written together or not at all, ids written again change nothing, one derivation per incident
 * at a time (two nodes' too), digests collect tests until due, claims are exclusive and leased,
 * attempts and outcomes are recorded, and everything is there again after a restart.
 */
import { describe, expect, it } from 'vitest';
import type { NotificationEvent } from '../../shared/notifications.js';
import { emptyState } from '../../server/notifications/derive-events.js';
import type { AttemptRecord, DestinationRecord, NotificationStore, NotifiedState } from '../../server/notifications/notification-store.js';

export interface StoreStorage {
  /** The store on this storage, as a (re)starting node opens it; several may be open at once when `shared`. */
  open(): Promise<NotificationStore>;
}

export interface StoreFixture {
  fresh(): Promise<StoreStorage>;
  /** Several stores may be open on one storage at once (nodes). */
  shared: boolean;
}

let n = 0;
export const destination = (extra: Partial<DestinationRecord> = {}): DestinationRecord => ({
  id: `d${++n}`, name: 'ops', kind: 'webhook', url: 'https://hooks.example.com/x', events: ['incident.declared', 'tests.digest'], digestMinutes: 1,
  restrictedIncidents: [], enabled: true, createdAt: new Date().toISOString(), createdBy: 'u_admin', secret: 'whsec_c2VjcmV0', ...extra,
});

const event = (summary: string, extra: Partial<NotificationEvent> = {}): NotificationEvent => ({
  type: 'incident.declared', incident: { id: 'inc1', title: 'Packet loss', severity: 'sev2', status: 'investigating', restricted: false, url: 'https://b/incidents/inc1' },
  actor: { id: 'u1', name: 'alice' }, at: new Date().toISOString(), summary, url: 'https://b/incidents/inc1', ...extra,
});
const testEvent = (title: string) => event('1 new test logged', { type: 'tests.digest', tests: [{ entryId: title, title, ranAt: '', actor: null, at: new Date().toISOString(), url: '' }] });
const state = (seq: number, extra: Partial<NotifiedState> = {}): NotifiedState => ({ ...emptyState(), seq, ...extra });
const attempt = (messageId: string, destinationId: string, ok: boolean, extra: Partial<AttemptRecord> = {}): AttemptRecord => ({
  messageId, destinationId, at: new Date().toISOString(), durationMs: 12, ok, ...(ok ? { statusCode: 200 } : { statusCode: 500, error: 'HTTP 500', excerpt: 'oops' }), ...extra,
});
const now = () => Date.now();

export function describeStoreContract(name: string, fixture: StoreFixture): void {
  /** Two nodes' stores on one fresh storage (one store twice when the storage is not shared), and a way to close them. */
  async function twoNodes(): Promise<{ a: NotificationStore; b: NotificationStore; close: () => Promise<void> }> {
    const storage = await fixture.fresh();
    const a = await storage.open();
    const b = fixture.shared ? await storage.open() : a;
    const close = async () => {
      await a.close();
      if (b !== a) await b.close();
    };
    return { a, b, close };
  }
  /** Two destinations, added on `store`. */
  async function twoDestinations(store: NotificationStore): Promise<[DestinationRecord, DestinationRecord]> {
    const [d1, d2] = [destination(), destination()];
    await store.addDestination(d1);
    await store.addDestination(d2);
    return [d1, d2];
  }

  describe(`NotificationStore: ${name}`, () => {
    it('keeps destinations, their secrets and changes, across a restart', async () => {
      const storage = await fixture.fresh();
      const store = await storage.open();
      const d = destination();
      await store.addDestination(d);
      expect(await store.destination(d.id)).toEqual(d);
      const changed = await store.updateDestination(d.id, { name: 'renamed', enabled: false, restrictedIncidents: ['inc9'] });
      expect(changed).toEqual({ ...d, name: 'renamed', enabled: false, restrictedIncidents: ['inc9'] });
      expect(await store.updateDestination('nope', { name: 'x' })).toBeUndefined();
      await store.close();
      const again = await storage.open();
      expect(await again.destinations()).toEqual([changed]);
      expect(await again.removeDestination(d.id)).toBe(true);
      expect(await again.removeDestination(d.id)).toBe(false);
      expect(await again.destinations()).toEqual([]);
      await again.close();
    });

    it('writes a derivation’s state and messages together; the same ids again change nothing', async () => {
      const storage = await fixture.fresh();
      const store = await storage.open();
      const d = destination();
      await store.addDestination(d);
      const messages = [
        { id: 'm1', destinationId: d.id, incidentId: 'inc1', event: event('declared'), dueAt: now() },
        { id: 'm2', destinationId: d.id, incidentId: 'inc1', event: event('updated'), dueAt: now() },
      ];
      expect(await store.derive('inc1', async (s) => (expect(s).toBeUndefined(), { state: state(3), messages, digests: [] }))).toBeDefined();
      // Derived again (a crash before the state was known elsewhere): same ids, nothing doubled, the first kept.
      await store.derive('inc1', async (s) => (expect(s).toEqual(state(3)), { state: state(4), messages: [{ ...messages[0]!, event: event('changed?') }], digests: [] }));
      const list = await store.deliveries(d.id, 10);
      expect(list.map((m) => m.id).sort()).toEqual(['m1', 'm2']);
      expect(list.find((m) => m.id === 'm1')!.event.summary).toBe('declared');
      expect(list.every((m) => m.status === 'pending' && m.attempts === 0 && m.log.length === 0)).toBe(true);
      // Nothing returned: nothing written.
      await store.derive('inc1', async () => undefined);
      await store.close();
      const again = await storage.open();
      await again.derive('inc1', async (s) => (expect(s).toEqual(state(4)), undefined));
      expect((await again.deliveries(d.id, 10)).map((m) => m.id).sort()).toEqual(['m1', 'm2']);
      await again.close();
    });

    it('writes nothing of a derivation that throws', async () => {
      const storage = await fixture.fresh();
      const store = await storage.open();
      const d = destination();
      await store.addDestination(d);
      await expect(store.derive('inc1', async () => { throw new Error('history unreadable'); })).rejects.toThrow('history unreadable');
      await store.derive('inc1', async (s) => (expect(s).toBeUndefined(), undefined));
      expect(await store.deliveries(d.id, 10)).toEqual([]);
      await store.close();
    });

    it('derives one incident one caller at a time: the second sees what the first wrote', async () => {
      const { a, b, close } = await twoNodes();
      const seen: number[] = [];
      const step = (store: NotificationStore) =>
        store.derive('inc1', async (s) => {
          const seq = s?.seq ?? 0;
          seen.push(seq);
          await new Promise((r) => setTimeout(r, 30));
          return { state: state(seq + 1), messages: [], digests: [] };
        });
      await Promise.all([step(a), step(b), step(a), step(b)]);
      expect(seen).toEqual([0, 1, 2, 3]);
      // Other incidents are not held up.
      await a.derive('inc2', async () => undefined);
      await close();
    });

    it('collects tests into the open digest until it is due, then starts another', async () => {
      const storage = await fixture.fresh();
      const store = await storage.open();
      const d = destination();
      await store.addDestination(d);
      const item = (id: string, dueAt: number) => ({ id, destinationId: d.id, incidentId: 'inc1', event: testEvent(id), dueAt });
      await store.derive('inc1', async () => ({ state: state(1), messages: [], digests: [item('t1', now() + 400)] }));
      await store.derive('inc1', async () => ({ state: state(2), messages: [], digests: [item('t2', now() + 400), item('t3', now() + 400)] }));
      let list = await store.deliveries(d.id, 10);
      expect(list).toHaveLength(1);
      expect(list[0]!.id).toBe('t1');
      expect(list[0]!.digest).toBe(true);
      expect(list[0]!.event.tests!.map((t) => t.title)).toEqual(['t1', 't2', 't3']);
      expect(list[0]!.event.summary).toBe('3 new tests logged');
      // Not due yet: not claimed.
      expect(await store.claimDue('node-a', { now: now(), limit: 5, leaseMs: 10_000, busy: [] })).toEqual([]);
      await new Promise((r) => setTimeout(r, 450));
      await store.derive('inc1', async () => ({ state: state(3), messages: [], digests: [item('t4', now() + 400)] }));
      list = await store.deliveries(d.id, 10);
      expect(list.map((m) => m.event.tests!.map((t) => t.title))).toEqual([['t4'], ['t1', 't2', 't3']]);
      const [claimed] = await store.claimDue('node-a', { now: now(), limit: 5, leaseMs: 10_000, busy: [] });
      expect(claimed!.id).toBe('t1');
      await store.close();
    });

    it('claims due messages under a lease, one per destination at a time, oldest first', async () => {
      const { a, b, close } = await twoNodes();
      const [d1, d2] = await twoDestinations(a);
      const t = now();
      await a.derive('inc1', async () => ({
        state: state(1),
        digests: [],
        messages: [
          { id: 'later', destinationId: d1.id, incidentId: 'inc1', event: event('later'), dueAt: t + 60_000 },
          { id: 'first', destinationId: d1.id, incidentId: 'inc1', event: event('first'), dueAt: t - 20 },
          { id: 'second', destinationId: d1.id, incidentId: 'inc1', event: event('second'), dueAt: t - 10 },
          { id: 'other', destinationId: d2.id, incidentId: 'inc1', event: event('other'), dueAt: t - 5 },
        ],
      }));
      const claimedA = await a.claimDue('node-a', { now: now(), limit: 10, leaseMs: 300, busy: [] });
      expect(claimedA.map((m) => m.id).sort()).toEqual(['first', 'other']);
      // Held: nobody else gets them; d1's next waits for d1's first (one at a time per destination when asked).
      const claimedB = await b.claimDue('node-b', { now: now(), limit: 10, leaseMs: 300, busy: [d1.id] });
      expect(claimedB).toEqual([]);
      // Settled by someone else: refused.
      expect(await b.settle('first', 'node-b', attempt('first', d1.id, true), { status: 'delivered' })).toBe(false);
      expect(await a.settle('first', 'node-a', attempt('first', d1.id, true), { status: 'delivered' })).toBe(true);
      // The lease on 'other' runs out (its node died): another node takes it over.
      await new Promise((r) => setTimeout(r, 400));
      const takeover = await b.claimDue('node-b', { now: now(), limit: 10, leaseMs: 10_000, busy: [] });
      expect(takeover.map((m) => m.id).sort()).toEqual(['other', 'second']);
      expect(await a.settle('other', 'node-a', attempt('other', d2.id, true), { status: 'delivered' })).toBe(false);
      await close();
    });

    it('a sender renews the leases it holds; a lease not renewed runs out (its node died)', async () => {
      const { a, b, close } = await twoNodes();
      const [d1, d2] = await twoDestinations(a);
      const t = now();
      await a.derive('inc1', async () => ({
        state: state(1),
        digests: [],
        messages: [
          { id: 'kept', destinationId: d1.id, incidentId: 'inc1', event: event('kept'), dueAt: t - 10 },
          { id: 'dropped', destinationId: d2.id, incidentId: 'inc1', event: event('dropped'), dueAt: t - 10 },
        ],
      }));
      expect((await a.claimDue('node-a', { now: now(), limit: 10, leaseMs: 400, busy: [] })).map((m) => m.id).sort()).toEqual(['dropped', 'kept']);
      // Only the holder renews.
      expect(await b.renew(['kept'], 'node-b', 10_000)).toEqual([]);
      await new Promise((r) => setTimeout(r, 200));
      expect(await a.renew(['kept'], 'node-a', 10_000)).toEqual(['kept']);
      await new Promise((r) => setTimeout(r, 400));
      // 'dropped' was not renewed: another node takes it; 'kept' is still held, and settled by its holder.
      expect((await b.claimDue('node-b', { now: now(), limit: 10, leaseMs: 10_000, busy: [] })).map((m) => m.id)).toEqual(['dropped']);
      expect(await a.renew(['dropped'], 'node-a', 10_000)).toEqual([]);
      expect(await a.settle('kept', 'node-a', attempt('kept', d1.id, true), { status: 'delivered' })).toBe(true);
      await close();
    });

    it('records attempts and outcomes: tried again later, delivered, failed, retried by an admin — across a restart', async () => {
      const storage = await fixture.fresh();
      const store = await storage.open();
      const d = destination();
      await store.addDestination(d);
      await store.derive('inc1', async () => ({ state: state(1), digests: [], messages: [{ id: 'm1', destinationId: d.id, incidentId: 'inc1', event: event('x'), dueAt: now() - 1 }] }));
      let [m] = await store.claimDue('node-a', { now: now(), limit: 1, leaseMs: 10_000, busy: [] });
      const retryAt = now() + 200;
      expect(await store.settle(m!.id, 'node-a', attempt('m1', d.id, false), { status: 'pending', nextAttemptAt: retryAt, error: 'HTTP 500' })).toBe(true);
      expect(await store.message('m1')).toMatchObject({ status: 'pending', attempts: 1, nextAttemptAt: retryAt, lastError: 'HTTP 500' });
      expect(await store.claimDue('node-a', { now: now(), limit: 1, leaseMs: 10_000, busy: [] })).toEqual([]);
      await new Promise((r) => setTimeout(r, 220));
      [m] = await store.claimDue('node-a', { now: now(), limit: 1, leaseMs: 10_000, busy: [] });
      expect(m!.id).toBe('m1');
      await store.settle('m1', 'node-a', attempt('m1', d.id, false, { error: 'gave up' }), { status: 'failed', error: 'gave up after 2 attempts: HTTP 500' });
      expect(await store.message('m1')).toMatchObject({ status: 'failed', attempts: 2, nextAttemptAt: null, lastError: 'gave up after 2 attempts: HTTP 500' });
      expect((await store.counts()).get(d.id)).toEqual({ pending: 0, failed: 1, delivered: 0 });
      await store.close();

      const again = await storage.open();
      const [logged] = await again.deliveries(d.id, 10);
      expect(logged!.log.map((l) => [l.ok, l.statusCode, l.error])).toEqual([[false, 500, 'gave up'], [false, 500, 'HTTP 500']]);
      expect(logged!.log[1]).toMatchObject({ excerpt: 'oops', durationMs: 12 });
      const t = now();
      expect(await again.retry('m1', t)).toMatchObject({ status: 'pending', since: t, nextAttemptAt: t });
      [m] = await again.claimDue('node-b', { now: now(), limit: 1, leaseMs: 10_000, busy: [] });
      await again.settle('m1', 'node-b', attempt('m1', d.id, true), { status: 'delivered' });
      expect(await again.message('m1')).toMatchObject({ status: 'delivered', attempts: 3, lastError: null, deliveredAt: expect.any(Number) });
      expect(await again.retry('nope', t)).toBeUndefined();
      // Removing the destination takes its messages too.
      await again.removeDestination(d.id);
      expect(await again.message('m1')).toBeUndefined();
      await again.close();
    });

    it('says which incidents asked to be looked at again', async () => {
      const storage = await fixture.fresh();
      const store = await storage.open();
      const t = now();
      await store.derive('quiet-soon', async () => ({ state: state(1, { recheckAt: t + 1000 }), messages: [], digests: [] }));
      await store.derive('nothing-waits', async () => ({ state: state(1), messages: [], digests: [] }));
      expect(await store.rechecksDue(t)).toEqual([]);
      expect(await store.rechecksDue(t + 1000)).toEqual(['quiet-soon']);
      await store.close();
    });
  });
}
