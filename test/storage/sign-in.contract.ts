/**
 * What the metadata stores promise for signing in through an identity provider (issue #17), run
 * against the embedded file and PostgreSQL by catalog.test.ts: an account found by its (issuer,
 * subject) and never by name, one account per identity (a second is refused), IdP fields changed and
 * removed by updateUser, kept through a restart; device logins for `bridgelog login` found by user
 * code until they expire, approved once, taken once.
 */
import { describe, expect, it } from 'vitest';
import { newId } from '../../shared/schema/doc.js';
import { DuplicateIdentityError, type DeviceLoginRecord } from '../../server/store/metadata.js';
import { userRecord, type CatalogFixture, type CatalogStores } from './catalog.contract.js';

const iso = (ms = Date.now()) => new Date(ms).toISOString();
const deviceLogin = (extra: Partial<DeviceLoginRecord> = {}): DeviceLoginRecord => ({
  deviceHash: `device-${newId()}`, userCode: `C${newId().slice(0, 3).toUpperCase()}-${newId().slice(0, 4).toUpperCase()}`, createdAt: iso(), expiresAt: iso(Date.now() + 600_000), ...extra,
});

export function describeSignInContract(name: string, fixture: CatalogFixture): void {
  async function withStores(test: (s: { stores: CatalogStores; reopen: () => Promise<CatalogStores> }) => Promise<void>): Promise<void> {
    const storage = await fixture.fresh();
    let stores = await storage.open();
    try {
      await test({
        stores,
        reopen: async () => {
          await stores.close();
          return (stores = await storage.open());
        },
      });
    } finally {
      await stores.close();
    }
  }

  describe(`MetadataStore sign-in contract: ${name}`, () => {
    it('finds an IdP account by issuer and subject only, refuses a second account for one identity, keeps it through a restart', () =>
      withStores(async ({ stores: { metadata }, reopen }) => {
        const issuer = 'https://idp.example/realms/ops';
        const local = userRecord('dana', { passwordHash: 'scrypt$1' });
        const idpDana = userRecord('dana-2', { identity: { issuer, subject: 'sub-1' }, groups: ['netops'], email: 'dana@example.com', displayName: 'Dana S' });
        await metadata.addUser(local);
        await metadata.addUser(idpDana);
        expect(metadata.userByIdentity({ issuer, subject: 'sub-1' })?.id).toBe(idpDana.id);
        expect(metadata.userByIdentity({ issuer: 'https://other.example', subject: 'sub-1' })).toBeUndefined();
        expect(metadata.userByIdentity({ issuer, subject: 'dana' })).toBeUndefined();
        await expect(metadata.addUser(userRecord('someone-else', { identity: { issuer, subject: 'sub-1' } }))).rejects.toThrow(DuplicateIdentityError);
        expect(metadata.countUsers()).toBe(2);
        // Same subject at another issuer is another person.
        await metadata.addUser(userRecord('dana-3', { identity: { issuer: 'https://other.example', subject: 'sub-1' } }));

        const updated = await metadata.updateUser(idpDana.id, { groups: ['staff'], email: undefined, deactivatedAt: iso(), deactivatedBy: 'groups' });
        expect(updated).toMatchObject({ groups: ['staff'], deactivatedBy: 'groups' });
        expect(updated && 'email' in updated).toBe(false);
        const again = await reopen();
        const stored = again.metadata.userByIdentity({ issuer, subject: 'sub-1' })!;
        expect(stored).toMatchObject({ id: idpDana.id, name: 'dana-2', groups: ['staff'], displayName: 'Dana S', deactivatedBy: 'groups' });
        expect('email' in stored).toBe(false);
        const cleared = await again.metadata.updateUser(idpDana.id, { deactivatedAt: undefined, deactivatedBy: undefined });
        expect(cleared && ('deactivatedAt' in cleared || 'deactivatedBy' in cleared)).toBe(false);
        expect(again.metadata.userByName('dana')?.identity).toBeUndefined();
      }));

    it('keeps a device login until it expires: approved once, taken once, pending until approved', () =>
      withStores(async ({ stores: { metadata }, reopen }) => {
        const login = deviceLogin();
        await metadata.addDeviceLogin(login);
        expect(await metadata.deviceLoginByUserCode(login.userCode)).toMatchObject({ deviceHash: login.deviceHash });
        expect(await metadata.deviceLoginByUserCode('NOPE-NOPE')).toBeUndefined();
        // Pending: returned, and kept.
        expect((await metadata.takeDeviceLogin(login.deviceHash))?.approvedBy).toBeUndefined();
        expect(await metadata.takeDeviceLogin(login.deviceHash)).toBeDefined();
        expect(await metadata.approveDeviceLogin(login.userCode, 'u_kim')).toMatchObject({ approvedBy: 'u_kim' });
        expect(await metadata.approveDeviceLogin(login.userCode, 'u_eve')).toBeUndefined();
        const { metadata: after } = await reopen();
        expect(await after.takeDeviceLogin(login.deviceHash)).toMatchObject({ approvedBy: 'u_kim', userCode: login.userCode });
        expect(await after.takeDeviceLogin(login.deviceHash)).toBeUndefined();
        expect(await after.deviceLoginByUserCode(login.userCode)).toBeUndefined();

        const expired = deviceLogin({ createdAt: iso(Date.now() - 700_000), expiresAt: iso(Date.now() - 100_000) });
        await after.addDeviceLogin(expired);
        expect(await after.deviceLoginByUserCode(expired.userCode)).toBeUndefined();
        expect(await after.approveDeviceLogin(expired.userCode, 'u_kim')).toBeUndefined();
        expect(await after.takeDeviceLogin(expired.deviceHash)).toBeUndefined();
      }));

    it('gives a device login to one of two takers at once', () =>
      withStores(async ({ stores: { metadata } }) => {
        const login = deviceLogin();
        await metadata.addDeviceLogin(login);
        await metadata.approveDeviceLogin(login.userCode, 'u_kim');
        const [a, b] = await Promise.all([metadata.takeDeviceLogin(login.deviceHash), metadata.takeDeviceLogin(login.deviceHash)]);
        expect([a, b].filter((x) => x?.approvedBy === 'u_kim')).toHaveLength(1);
      }));
  });
}
