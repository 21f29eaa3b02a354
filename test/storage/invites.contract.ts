/** What every InviteStore must do (auth/invite-store.ts), whichever storage holds it. */
import { describe, expect, it } from 'vitest';
import type { InviteRecord, InviteStore } from '../../server/auth/invite-store.js';

export interface InviteStoreSetup {
  /** A new empty store; `open()` again opens the same one (as after a restart, or another node). */
  fresh(): Promise<{ open(): Promise<InviteStore> }>;
}

let n = 0;
const HOUR = 3_600_000;
export function invite(over: Partial<InviteRecord> = {}): InviteRecord {
  n += 1;
  return {
    id: `inv${n}`,
    tokenHash: `hash${n}-${Math.random()}`,
    role: 'responder',
    createdBy: 'admin1',
    createdAt: new Date(Date.now() - HOUR).toISOString(),
    expiresAt: new Date(Date.now() + HOUR).toISOString(),
    ...over,
  };
}

const now = () => new Date().toISOString();

export function describeInviteContract(name: string, setup: InviteStoreSetup): void {
  describe(`invite store contract: ${name}`, () => {
    it('keeps an invite across a restart, with every field', async () => {
      const where = await setup.fresh();
      const store = await where.open();
      const i = invite({ role: 'viewer' });
      await store.add(i);
      await store.close();
      const again = await where.open();
      expect(await again.list()).toEqual([i]);
      expect(await again.byTokenHash(i.tokenHash)).toEqual(i);
      expect(await again.byTokenHash('nope')).toBeUndefined();
      await again.close();
    });

    it('redeems once: the second attempt is told it was used, and the use survives a restart', async () => {
      const where = await setup.fresh();
      const store = await where.open();
      const i = invite();
      await store.add(i);
      const first = await store.redeem(i.tokenHash, 'u1', now());
      expect(first.ok).toBe(true);
      if (first.ok) expect(first.invite).toMatchObject({ id: i.id, role: 'responder', usedBy: 'u1' });
      expect(await store.redeem(i.tokenHash, 'u2', now())).toEqual({ ok: false, reason: 'used' });
      await store.close();
      const again = await where.open();
      expect(await again.redeem(i.tokenHash, 'u3', now())).toEqual({ ok: false, reason: 'used' });
      expect((await again.list())[0]).toMatchObject({ usedBy: 'u1' });
      await again.close();
    });

    it('gives one of many simultaneous redeemers the invite (also from two stores on one storage)', async () => {
      const where = await setup.fresh();
      const a = await where.open();
      const i = invite();
      await a.add(i);
      const stores = [a, a, a];
      const results = await Promise.all(stores.map((s, k) => s.redeem(i.tokenHash, `u${k}`, now())));
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.reason)).toEqual(['used', 'used']);
      await a.close();
    });

    it('refuses an expired invite and an unknown one, saying which', async () => {
      const store = await (await setup.fresh()).open();
      const old = invite({ expiresAt: new Date(Date.now() - 1000).toISOString() });
      await store.add(old);
      expect(await store.redeem(old.tokenHash, 'u1', now())).toEqual({ ok: false, reason: 'expired' });
      expect(await store.redeem('no-such-hash', 'u1', now())).toEqual({ ok: false, reason: 'unknown' });
      expect((await store.list())[0]!.usedAt).toBeUndefined();
      await store.close();
    });

    it('release makes a redeemed invite work again, only for the user who redeemed it', async () => {
      const store = await (await setup.fresh()).open();
      const i = invite();
      await store.add(i);
      await store.redeem(i.tokenHash, 'u1', now());
      await store.release(i.id, 'someone-else');
      expect(await store.redeem(i.tokenHash, 'u2', now())).toEqual({ ok: false, reason: 'used' });
      await store.release(i.id, 'u1');
      expect((await store.redeem(i.tokenHash, 'u2', now())).ok).toBe(true);
      await store.close();
    });

    it('removes (revokes) an invite for good; removing one that is not there says so', async () => {
      const where = await setup.fresh();
      const store = await where.open();
      const keep = invite();
      const gone = invite();
      await store.add(keep);
      await store.add(gone);
      expect(await store.remove(gone.id)).toBe(true);
      expect(await store.remove(gone.id)).toBe(false);
      expect(await store.redeem(gone.tokenHash, 'u1', now())).toEqual({ ok: false, reason: 'unknown' });
      await store.close();
      const again = await where.open();
      expect((await again.list()).map((x) => x.id)).toEqual([keep.id]);
      await again.close();
    });

    it('lists oldest first', async () => {
      const store = await (await setup.fresh()).open();
      const later = invite({ createdAt: new Date(Date.now() - 1000).toISOString() });
      const earlier = invite({ createdAt: new Date(Date.now() - 5000).toISOString() });
      await store.add(earlier);
      await store.add(later);
      expect((await store.list()).map((x) => x.id)).toEqual([earlier.id, later.id]);
      await store.close();
    });
  });
}
