/**
 * What the catalog stores promise the rest of the server (server/store/metadata.ts,
 * server/alerts/alert-store.ts, server/store/seen-marks.ts, server/attachments/attachment-store.ts),
 * written once and run against each implementation (catalog.test.ts): lookups right after a write,
 * durability (storage opened again sees everything), seen marks that never go back, alerts by
 * fingerprint, raw payloads kept whatever they hold. Implementations whose records are values
 * (`isolatesValues`) are also held to it: nothing done to a record or list a getter returned changes
 * what is stored.
 */
import { describe, expect, it } from 'vitest';
import type { AlertSource } from '../../shared/alerts.js';
import type { Attachment } from '../../shared/attachments.js';
import { newId } from '../../shared/schema/doc.js';
import type { AlertRecord, AlertStore, IntegrationRecord } from '../../server/alerts/alert-store.js';
import type { AttachmentStore } from '../../server/attachments/attachment-store.js';
import { safeFileName } from '../../server/attachments/sniff.js';
import type { ApiTokenRecord, IncidentRecord, MetadataStore, SessionRecord, UserRecord } from '../../server/store/metadata.js';
import type { SeenMarks } from '../../server/store/seen-marks.js';

export interface CatalogStores {
  metadata: MetadataStore;
  alerts: AlertStore;
  seen: SeenMarks;
  attachments: AttachmentStore;
  close(): Promise<void>;
}

export interface RawEntry {
  id: string;
  integrationId: string;
  source: string;
  payload: unknown;
}

export interface CatalogStorage {
  /** The four stores on this storage, as a node (re)starting on it opens them. */
  open(): Promise<CatalogStores>;
  /** The raw payloads kept, as stored. */
  rawPayloads(): Promise<RawEntry[]>;
}

export interface CatalogFixture {
  /** New, empty storage. */
  fresh(): Promise<CatalogStorage>;
  /** Whether records and lists from getters are values: changing them changes nothing stored. */
  isolatesValues: boolean;
}

const iso = (ms = Date.now()) => new Date(ms).toISOString();

export const userRecord = (name: string, extra: Partial<UserRecord> = {}): UserRecord => ({ id: newId(), name, role: 'responder', createdAt: iso(), ...extra });
export const tokenRecord = (userId: string, extra: Partial<ApiTokenRecord> = {}): ApiTokenRecord => ({
  id: newId(), userId, name: 'ci', tokenHash: `hash-${newId()}`, createdAt: iso(), ...extra,
});
export const sessionRecord = (userId: string, ttlMs = 3_600_000): SessionRecord => ({ tokenHash: `session-${newId()}`, userId, createdAt: iso(), expiresAt: iso(Date.now() + ttlMs) });
export const incidentRecord = (title: string, extra: Partial<IncidentRecord> = {}): IncidentRecord => ({
  id: newId(), title, severity: 'sev2', status: 'investigating', createdAt: iso(), createdBy: 'u_kim', resolvedAt: null, ...extra,
});
export const integrationRecord = (name: string, kind: AlertSource = 'alertmanager'): IntegrationRecord => ({
  id: newId(), name, kind, createdAt: iso(), tokenHash: `bli-${newId()}`,
});
export const alertRecord = (fingerprint: string, extra: Partial<AlertRecord> = {}): AlertRecord => {
  const at = iso();
  return {
    id: newId(), fingerprint, status: 'firing', title: `alert ${fingerprint}`, labels: { alertname: 'LinkDown', site: 'ny' }, annotations: {},
    startsAt: at, endsAt: null, source: 'alertmanager', url: null, transitions: [{ status: 'firing', at, receivedAt: at }],
    integrationId: 'int_1', incidents: [], detachedFrom: [], receivedAt: at, updatedAt: at, rawIds: [], ...extra,
  };
};
export const attachmentRecord = (incidentId: string, name: string): Attachment => ({
  id: newId(), incidentId, name, size: 42, sha256: 'ab'.repeat(32), kind: 'text', mime: 'text/plain', uploadedBy: 'u_kim', uploadedAt: iso(),
});

/** Tries to change `target` as a careless caller would; a frozen record throws, which is fine too. */
function tamper(change: () => void): void {
  try {
    change();
  } catch {
    // refused: the record is frozen
  }
}

/** Strings a sender or a user may well send, that a naive store could refuse or mangle. */
const awkward = ['nul \u0000 byte', 'lone surrogate \ud800', 'quote " backslash \\ newline \n', 'emoji 🛰️ and RTL \u202e'];

export function describeCatalogContract(name: string, fixture: CatalogFixture): void {
  /** Fresh storage with its stores open; every opened set is closed after the test. */
  async function setup() {
    const storage = await fixture.fresh();
    const opened: CatalogStores[] = [];
    const open = async () => {
      const stores = await storage.open();
      opened.push(stores);
      return stores;
    };
    let current = await open();
    return {
      storage,
      stores: current,
      open,
      /** Closes the stores opened last, then opens the storage again (a restart). */
      async reopen() {
        await current.close();
        opened.splice(opened.indexOf(current), 1);
        return (current = await open());
      },
      closeAll: () => Promise.all(opened.splice(0).map((s) => s.close())),
    };
  }
  async function withStores(test: (s: Awaited<ReturnType<typeof setup>>) => Promise<void>): Promise<void> {
    const s = await setup();
    try {
      await test(s);
    } finally {
      await s.closeAll();
    }
  }

  describe(`MetadataStore contract: ${name}`, () => {
    it('starts empty', () =>
      withStores(async ({ stores: { metadata } }) => {
        expect(metadata.countUsers()).toBe(0);
        expect(metadata.listUsers()).toEqual([]);
        expect(metadata.listIncidents()).toEqual([]);
        expect(metadata.userByName('admin')).toBeUndefined();
      }));

    it('finds users by id and by their exact name (case-sensitive), listed in the order added', () =>
      withStores(async ({ stores: { metadata } }) => {
        const kim = userRecord('kim', { passwordHash: 'scrypt$1' });
        const lee = userRecord('Lee', { role: 'admin' });
        await metadata.addUser(kim);
        expect(metadata.userById(kim.id)).toEqual(kim);
        await metadata.addUser(lee);
        expect(metadata.countUsers()).toBe(2);
        expect(metadata.listUsers()).toEqual([kim, lee]);
        expect(metadata.userByName('kim')).toEqual(kim);
        expect(metadata.userByName('Lee')).toEqual(lee);
        expect(metadata.userByName('KIM')).toBeUndefined();
        expect(metadata.userByName('lee')).toBeUndefined();
        expect(metadata.userById('nobody')).toBeUndefined();
      }));

    it('updateUser returns the changed user, removes a field set to undefined, and undefined for an unknown id', () =>
      withStores(async ({ stores: { metadata } }) => {
        const kim = userRecord('kim');
        await metadata.addUser(kim);
        const removed = await metadata.updateUser(kim.id, { role: 'viewer', deactivatedAt: '2025-01-01T00:00:00.000Z' });
        expect(removed).toEqual({ ...kim, role: 'viewer', deactivatedAt: '2025-01-01T00:00:00.000Z' });
        expect(metadata.userById(kim.id)).toEqual(removed);
        const back = await metadata.updateUser(kim.id, { deactivatedAt: undefined });
        expect(back).toEqual({ ...kim, role: 'viewer' });
        expect(Object.keys(metadata.userById(kim.id)!)).not.toContain('deactivatedAt');
        expect(await metadata.updateUser('nobody', { role: 'admin' })).toBeUndefined();
        expect(metadata.countUsers()).toBe(1);
      }));

    it('finds tokens by hash and by user; removes one, or all of a user, returning those removed', () =>
      withStores(async ({ stores: { metadata } }) => {
        const [a, b, c] = [tokenRecord('u_kim', { name: 'ci' }), tokenRecord('u_kim', { name: 'laptop' }), tokenRecord('u_lee')];
        for (const t of [a, b, c]) await metadata.addToken(t);
        expect(metadata.tokenByHash(a.tokenHash)).toEqual(a);
        expect(metadata.tokensOf('u_kim')).toEqual([a, b]);
        expect(metadata.tokensOf('u_nobody')).toEqual([]);

        expect(await metadata.removeTokens({ id: a.id })).toEqual([a]);
        expect(metadata.tokenByHash(a.tokenHash)).toBeUndefined();
        expect(metadata.tokensOf('u_kim')).toEqual([b]);
        expect(await metadata.removeTokens({ id: a.id })).toEqual([]);

        await metadata.addToken(a);
        expect(await metadata.removeTokens({ userId: 'u_kim' })).toEqual([b, a]);
        expect(metadata.tokenByHash(b.tokenHash)).toBeUndefined();
        expect(metadata.tokensOf('u_kim')).toEqual([]);
        expect(metadata.tokenByHash(c.tokenHash)).toEqual(c);
        expect(await metadata.removeTokens({ userId: 'u_kim' })).toEqual([]);
      }));

    it('notes a token use to the minute, kept once another change is written, through a restart', () =>
      withStores(async ({ stores, reopen }) => {
        const { metadata } = stores;
        const token = tokenRecord('u_kim');
        await metadata.addToken(token);
        const before = Date.now();
        metadata.tokenUsed(token.id);
        const lastUsedAt = metadata.tokenByHash(token.tokenHash)!.lastUsedAt!;
        expect(Date.parse(lastUsedAt)).toBeGreaterThanOrEqual(before - 1);
        expect(metadata.tokensOf('u_kim')[0]!.lastUsedAt).toBe(lastUsedAt);
        await new Promise((r) => setTimeout(r, 5));
        metadata.tokenUsed(token.id);
        expect(metadata.tokenByHash(token.tokenHash)!.lastUsedAt).toBe(lastUsedAt);
        metadata.tokenUsed('no-such-token');
        // Removing the token hands it back as it was, last use included.
        const other = tokenRecord('u_lee');
        await metadata.addToken(other);
        metadata.tokenUsed(other.id);
        const [removedOther] = await metadata.removeTokens({ id: other.id });
        expect(removedOther!.lastUsedAt).toBeDefined();

        await metadata.addUser(userRecord('kim'));
        const again = await reopen();
        expect(again.metadata.tokenByHash(token.tokenHash)).toEqual({ ...token, lastUsedAt });
      }));

    it('finds a session until it expires; removes one, or all of a user', () =>
      withStores(async ({ stores: { metadata } }) => {
        const [a, b, c] = [sessionRecord('u_kim'), sessionRecord('u_kim'), sessionRecord('u_lee')];
        const expired = { ...sessionRecord('u_kim'), expiresAt: iso(Date.now() - 1000) };
        for (const s of [a, b, c, expired]) await metadata.addSession(s);
        expect(metadata.sessionByTokenHash(a.tokenHash)).toEqual(a);
        expect(metadata.sessionByTokenHash(expired.tokenHash)).toBeUndefined();
        // One that expires while kept.
        const brief = sessionRecord('u_lee', 300);
        await metadata.addSession(brief);
        expect(metadata.sessionByTokenHash(brief.tokenHash)).toEqual(brief);
        await new Promise((r) => setTimeout(r, 400));
        expect(metadata.sessionByTokenHash(brief.tokenHash)).toBeUndefined();

        await metadata.removeSession(a.tokenHash);
        expect(metadata.sessionByTokenHash(a.tokenHash)).toBeUndefined();
        expect(metadata.sessionByTokenHash(b.tokenHash)).toEqual(b);
        await metadata.removeSession('no-such-session');
        await metadata.removeSessionsOf('u_kim');
        expect(metadata.sessionByTokenHash(b.tokenHash)).toBeUndefined();
        expect(metadata.sessionByTokenHash(c.tokenHash)).toEqual(c);
      }));

    it('finds and lists incidents in the order added; updateIncident merges, removes optional fields set to undefined', () =>
      withStores(async ({ stores: { metadata } }) => {
        const one = incidentRecord('packet loss ny', { members: ['u_kim'], alertMatchers: ['site=ny'] });
        const two = incidentRecord('db failover');
        await metadata.addIncident(one);
        await metadata.addIncident(two);
        expect(metadata.incidentById(one.id)).toEqual(one);
        expect(metadata.listIncidents()).toEqual([one, two]);

        const resolved = await metadata.updateIncident(one.id, { status: 'resolved', resolvedAt: '2025-01-01T00:00:00.000Z', members: ['u_kim', 'u_lee'] });
        expect(resolved).toEqual({ ...one, status: 'resolved', resolvedAt: '2025-01-01T00:00:00.000Z', members: ['u_kim', 'u_lee'] });
        expect(metadata.incidentById(one.id)).toEqual(resolved);
        const open = await metadata.updateIncident(one.id, { status: 'investigating', resolvedAt: null, members: undefined, alertMatchers: undefined });
        const { members: _members, alertMatchers: _matchers, ...unrestricted } = one;
        expect(open).toEqual(unrestricted);
        expect(Object.keys(metadata.incidentById(one.id)!)).not.toContain('members');
        expect(Object.keys(metadata.incidentById(one.id)!)).not.toContain('alertMatchers');
        expect(metadata.incidentById(one.id)!.resolvedAt).toBeNull();
        expect(await metadata.updateIncident('no-such-incident', { title: 'x' })).toBeUndefined();
        expect(metadata.listIncidents().map((i) => i.id)).toEqual([one.id, two.id]);
      }));

    it('keeps everything through a restart, text of any kind included', () =>
      withStores(async ({ stores, reopen }) => {
        const { metadata } = stores;
        const kim = userRecord('kim');
        const lee = userRecord('lee');
        const token = tokenRecord(kim.id);
        const session = sessionRecord(lee.id);
        const incidents = awkward.map((title) => incidentRecord(title, { members: [kim.id] }));
        await metadata.addUser(kim);
        await metadata.addUser(lee);
        await metadata.updateUser(lee.id, { role: 'admin' });
        await metadata.addToken(token);
        await metadata.addSession(session);
        for (const i of incidents) await metadata.addIncident(i);
        await metadata.updateIncident(incidents[0]!.id, { severity: 'sev1' });

        const { metadata: again } = await reopen();
        expect(again.listUsers()).toEqual([kim, { ...lee, role: 'admin' }]);
        expect(again.userByName('lee')!.role).toBe('admin');
        expect(again.tokenByHash(token.tokenHash)).toEqual(token);
        expect(again.tokensOf(kim.id)).toEqual([token]);
        expect(again.sessionByTokenHash(session.tokenHash)).toEqual(session);
        expect(again.listIncidents()).toEqual([{ ...incidents[0]!, severity: 'sev1' }, ...incidents.slice(1)]);
        expect(again.listIncidents().map((i) => i.title)).toEqual(awkward);
      }));

    it('has a write on storage once it resolves: storage opened then (as after a crash) sees it', () =>
      withStores(async ({ stores: { metadata }, open }) => {
        const kim = userRecord('kim');
        await metadata.addUser(kim);
        const incident = incidentRecord('dns outage');
        await metadata.addIncident(incident);
        await metadata.updateIncident(incident.id, { severity: 'sev1' });
        const token = tokenRecord(kim.id);
        await metadata.addToken(token);
        const { metadata: other } = await open();
        expect(other.userById(kim.id)).toEqual(kim);
        expect(other.incidentById(incident.id)!.severity).toBe('sev1');
        expect(other.tokenByHash(token.tokenHash)).toEqual(token);
      }));

    it.skipIf(!fixture.isolatesValues)('hands out values: changing a record or a list from a getter changes nothing stored', () =>
      withStores(async ({ stores: { metadata } }) => {
        const kim = userRecord('kim');
        await metadata.addUser(kim);
        const incident = incidentRecord('packet loss', { members: [kim.id] });
        await metadata.addIncident(incident);
        const token = tokenRecord(kim.id);
        await metadata.addToken(token);
        const session = sessionRecord(kim.id);
        await metadata.addSession(session);

        tamper(() => void (metadata.userById(kim.id)!.role = 'admin'));
        tamper(() => void (metadata.userByName('kim')!.deactivatedAt = iso()));
        tamper(() => void metadata.listUsers().push(userRecord('ghost')));
        tamper(() => void metadata.listUsers().pop());
        tamper(() => void metadata.incidentById(incident.id)!.members!.push('u_intruder'));
        tamper(() => void (metadata.listIncidents()[0]!.title = 'renamed'));
        tamper(() => void (metadata.tokenByHash(token.tokenHash)!.userId = 'u_intruder'));
        tamper(() => void metadata.tokensOf(kim.id).pop());
        tamper(() => void (metadata.sessionByTokenHash(session.tokenHash)!.expiresAt = iso(0)));
        const updated = await metadata.updateUser(kim.id, { role: 'viewer' });
        tamper(() => void (updated!.role = 'admin'));

        expect(metadata.userById(kim.id)).toEqual({ ...kim, role: 'viewer' });
        expect(metadata.listUsers()).toHaveLength(1);
        expect(metadata.incidentById(incident.id)).toEqual(incident);
        expect(metadata.tokenByHash(token.tokenHash)).toEqual(token);
        expect(metadata.tokensOf(kim.id)).toEqual([token]);
        expect(metadata.sessionByTokenHash(session.tokenHash)).toEqual(session);
        // The caller's own objects were copied too.
        tamper(() => void (kim.role = 'admin'));
        incident.members!.push('u_intruder');
        expect(metadata.userById(kim.id)!.role).toBe('viewer');
        expect(metadata.incidentById(incident.id)!.members).toEqual([kim.id]);
      }));
  });

  describe(`AlertStore contract: ${name}`, () => {
    it('lists integrations, finds one by token hash until it is revoked; a revocation keeps its first time', () =>
      withStores(async ({ stores: { alerts } }) => {
        const am = integrationRecord('alertmanager');
        const grafana = integrationRecord('grafana', 'grafana');
        await alerts.addIntegration(am);
        await alerts.addIntegration(grafana);
        expect(alerts.integrations()).toEqual([am, grafana]);
        expect(alerts.integrationByTokenHash(am.tokenHash)).toEqual(am);

        const revoked = await alerts.revokeIntegration(am.id);
        expect(revoked).toEqual({ ...am, revokedAt: expect.any(String) });
        expect(alerts.integrationByTokenHash(am.tokenHash)).toBeUndefined();
        expect(alerts.integrations()).toEqual([revoked, grafana]);
        await new Promise((r) => setTimeout(r, 5));
        expect(await alerts.revokeIntegration(am.id)).toEqual(revoked);
        expect(await alerts.revokeIntegration('no-such-integration')).toBeUndefined();
        expect(alerts.integrationByTokenHash(grafana.tokenHash)).toEqual(grafana);
      }));

    it('finds alerts by id and by source and fingerprint, listed in the order first stored', () =>
      withStores(async ({ stores: { alerts } }) => {
        const a = alertRecord('fp-a');
        const b = alertRecord('fp-b');
        const sameFpOtherSource = alertRecord('fp-a', { source: 'grafana' });
        await alerts.saveAlerts([a, b]);
        await alerts.saveAlerts([sameFpOtherSource]);
        await alerts.saveAlerts([]);
        expect(alerts.alertById(a.id)).toEqual(a);
        expect(alerts.alertByFingerprint('alertmanager', 'fp-a')).toEqual(a);
        expect(alerts.alertByFingerprint('grafana', 'fp-a')).toEqual(sameFpOtherSource);
        expect(alerts.alertByFingerprint('generic', 'fp-a')).toBeUndefined();
        expect(alerts.alertById('nope')).toBeUndefined();
        expect(alerts.alerts()).toEqual([a, b, sameFpOtherSource]);
      }));

    it('stores a record got from it, changed and saved again (as the receiver updates alerts), keeping its place', () =>
      withStores(async ({ stores, reopen }) => {
        const { alerts } = stores;
        const [a, b] = [alertRecord('fp-a'), alertRecord('fp-b')];
        await alerts.saveAlerts([a, b]);
        const got = alerts.alertByFingerprint('alertmanager', 'fp-a')!;
        got.status = 'resolved';
        got.transitions.push({ status: 'resolved', at: iso(), receivedAt: iso() });
        got.incidents = [...got.incidents, 'inc_1'];
        (got.links ??= []).push({ incidentId: 'inc_1', attached: true, at: iso(), by: null });
        got.rawIds = ['raw_1'];
        const fromList = alerts.alerts().find((x) => x.id === b.id)!;
        fromList.detachedFrom.push('inc_2');
        await alerts.saveAlerts([got, fromList]);
        expect(alerts.alertById(a.id)).toEqual(got);
        expect(alerts.alertByFingerprint('alertmanager', 'fp-b')).toEqual(fromList);
        expect(alerts.alerts().map((x) => x.id)).toEqual([a.id, b.id]);
        const again = await reopen();
        expect(again.alerts.alerts()).toEqual([got, fromList]);
      }));

    it('does not let a new record replace the one stored under its fingerprint', () =>
      withStores(async ({ stores: { alerts } }) => {
        const first = alertRecord('fp-dup', { title: 'first' });
        await alerts.saveAlerts([first]);
        const second = alertRecord('fp-dup', { title: 'second' });
        await alerts.saveAlerts([second]);
        expect(alerts.alertByFingerprint('alertmanager', 'fp-dup')).toEqual(first);
        expect(alerts.alerts()).toEqual([first]);
      }));

    it('keeps raw payloads as sent, whatever they hold, and alerts with text of any kind', () =>
      withStores(async ({ storage, stores, reopen }) => {
        const { alerts } = stores;
        const payloads: unknown[] = [
          { version: '4', alerts: [{ labels: { alertname: 'LinkDown', note: awkward[0] }, annotations: { summary: awkward[1] } }] },
          awkward,
          'just a string',
          42,
          null,
        ];
        const entries = payloads.map((payload, i) => ({ id: newId(), receivedAt: iso(), integrationId: `int_${i}`, source: 'generic' as const, payload }));
        await Promise.all(entries.map((e) => alerts.keepRaw(e)));
        const kept = await storage.rawPayloads();
        const byId = (x: { id: string }, y: { id: string }) => x.id.localeCompare(y.id);
        const expected = entries.map(({ id, integrationId, source, payload }) => ({ id, integrationId, source, payload })).sort(byId);
        expect(kept.map(({ id, integrationId, source, payload }) => ({ id, integrationId, source, payload })).sort(byId)).toEqual(expected);

        // Fingerprints too come from the sender.
        const odd = awkward.map((text, i) => alertRecord(`odd-${i} ${text}`, { title: text, labels: { text } }));
        await alerts.saveAlerts(odd);
        await reopen();
        expect((await storage.rawPayloads()).map(({ id, integrationId, source, payload }) => ({ id, integrationId, source, payload })).sort(byId)).toEqual(expected);
        const { alerts: again } = await reopen();
        expect(again.alerts()).toEqual(odd);
        for (const a of odd) expect(again.alertByFingerprint('alertmanager', a.fingerprint)).toEqual(a);
        const moved = again.alertByFingerprint('alertmanager', odd[0]!.fingerprint)!;
        moved.status = 'resolved';
        await again.saveAlerts([moved]);
        expect(again.alertById(moved.id)).toEqual(moved);
      }));

    it('keeps integrations and alerts through a restart', () =>
      withStores(async ({ stores, reopen }) => {
        const { alerts } = stores;
        const am = integrationRecord('am');
        const old = integrationRecord('old');
        await alerts.addIntegration(am);
        await alerts.addIntegration(old);
        const revoked = await alerts.revokeIntegration(old.id);
        const list = Array.from({ length: 30 }, (_, i) => alertRecord(`fp-${i}`));
        await alerts.saveAlerts(list.slice(0, 20));
        await alerts.saveAlerts(list.slice(20));
        const { alerts: again } = await reopen();
        expect(again.integrations()).toEqual([am, revoked]);
        expect(again.integrationByTokenHash(am.tokenHash)).toEqual(am);
        expect(again.integrationByTokenHash(old.tokenHash)).toBeUndefined();
        expect(again.alerts()).toEqual(list);
        expect(again.alertByFingerprint('alertmanager', 'fp-25')).toEqual(list[25]);
      }));

    it.skipIf(!fixture.isolatesValues)('hands out values: changing an alert or integration from a getter changes nothing stored', () =>
      withStores(async ({ stores: { alerts } }) => {
        const a = alertRecord('fp-a');
        await alerts.saveAlerts([a]);
        const am = integrationRecord('am');
        await alerts.addIntegration(am);
        const got = alerts.alertById(a.id)!;
        got.title = 'changed';
        got.labels.site = 'sf';
        got.transitions[0]!.status = 'resolved';
        got.incidents.push('inc_x');
        alerts.alerts()[0]!.title = 'changed too';
        alerts.alertByFingerprint('alertmanager', 'fp-a')!.rawIds.push('raw_x');
        tamper(() => void (alerts.integrations()[0]!.revokedAt = iso()));
        tamper(() => void alerts.integrations().pop());
        tamper(() => void (alerts.integrationByTokenHash(am.tokenHash)!.name = 'renamed'));
        expect(alerts.alertById(a.id)).toEqual(a);
        expect(alerts.alerts()).toEqual([a]);
        expect(alerts.integrations()).toEqual([am]);
        // Nor does changing the record after saving it.
        a.title = 'changed after saving';
        expect(alerts.alertById(a.id)!.title).toBe('alert fp-a');
      }));
  });

  describe(`SeenMarks contract: ${name}`, () => {
    it('keeps a mark per user and incident', () =>
      withStores(async ({ stores: { seen } }) => {
        expect(seen.get('u_kim', 'inc_1')).toBeUndefined();
        await seen.set('u_kim', 'inc_1', { seq: 10, at: '2025-01-01T00:00:00.000Z' });
        await seen.set('u_kim', 'inc_2', { seq: 3, at: '2025-01-01T00:00:01.000Z' });
        await seen.set('u_lee', 'inc_1', { seq: 7, at: '2025-01-01T00:00:02.000Z' });
        expect(seen.get('u_kim', 'inc_1')).toEqual({ seq: 10, at: '2025-01-01T00:00:00.000Z' });
        expect(seen.get('u_kim', 'inc_2')).toEqual({ seq: 3, at: '2025-01-01T00:00:01.000Z' });
        expect(seen.get('u_lee', 'inc_1')).toEqual({ seq: 7, at: '2025-01-01T00:00:02.000Z' });
        expect(seen.get('u_lee', 'inc_2')).toBeUndefined();
      }));

    it('never goes back: an earlier mark is ignored, the same seq takes the new time, a later one replaces', () =>
      withStores(async ({ stores: { seen } }) => {
        await seen.set('u_kim', 'inc_1', { seq: 10, at: 'a' });
        await seen.set('u_kim', 'inc_1', { seq: 9, at: 'b' });
        expect(seen.get('u_kim', 'inc_1')).toEqual({ seq: 10, at: 'a' });
        await seen.set('u_kim', 'inc_1', { seq: 10, at: 'c' });
        expect(seen.get('u_kim', 'inc_1')).toEqual({ seq: 10, at: 'c' });
        await seen.set('u_kim', 'inc_1', { seq: 11, at: 'd' });
        expect(seen.get('u_kim', 'inc_1')).toEqual({ seq: 11, at: 'd' });
        // Set together (tabs closing at once): the latest stands, whatever order they land in.
        await Promise.all([5, 30, 12, 29, 0].map((seq) => seen.set('u_kim', 'inc_1', { seq, at: `t${seq}` })));
        expect(seen.get('u_kim', 'inc_1')).toEqual({ seq: 30, at: 't30' });
      }));

    it('keeps marks through a restart, never going back', () =>
      withStores(async ({ stores, reopen }) => {
        await stores.seen.set('u_kim', 'inc_1', { seq: 10, at: 'a' });
        await stores.seen.set('u_kim', 'inc_2', { seq: 1, at: 'b' });
        await stores.seen.set('u_kim', 'inc_1', { seq: 4, at: 'c' });
        const { seen } = await reopen();
        expect(seen.get('u_kim', 'inc_1')).toEqual({ seq: 10, at: 'a' });
        expect(seen.get('u_kim', 'inc_2')).toEqual({ seq: 1, at: 'b' });
        await seen.set('u_kim', 'inc_1', { seq: 2, at: 'd' });
        const { seen: again } = await reopen();
        expect(again.get('u_kim', 'inc_1')).toEqual({ seq: 10, at: 'a' });
      }));

    it.skipIf(!fixture.isolatesValues)('hands out values: changing a mark from get changes nothing stored', () =>
      withStores(async ({ stores: { seen } }) => {
        const mark = { seq: 10, at: 'a' };
        await seen.set('u_kim', 'inc_1', mark);
        tamper(() => void (seen.get('u_kim', 'inc_1')!.seq = 1));
        mark.seq = 2;
        expect(seen.get('u_kim', 'inc_1')).toEqual({ seq: 10, at: 'a' });
      }));
  });

  describe(`AttachmentStore contract: ${name}`, () => {
    it('finds attachments by id and by incident, in the order added', () =>
      withStores(async ({ stores: { attachments } }) => {
        const [a, b, c] = [attachmentRecord('inc_1', 'ping.txt'), attachmentRecord('inc_2', 'trace.pcap'), attachmentRecord('inc_1', 'graph.png')];
        for (const x of [a, b, c]) await attachments.add(x);
        expect(attachments.byId(b.id)).toEqual(b);
        expect(attachments.byId('nope')).toBeUndefined();
        expect(attachments.forIncident('inc_1')).toEqual([a, c]);
        expect(attachments.forIncident('inc_3')).toEqual([]);
        expect(attachments.all()).toEqual([a, b, c]);
      }));

    it('keeps them through a restart, with unsafe names served cleaned', () =>
      withStores(async ({ stores, reopen }) => {
        const plain = attachmentRecord('inc_1', 'ping.txt');
        // Stored before intake dropped bidi controls.
        const sneaky = attachmentRecord('inc_1', 'invoice\u202Efdp.exe');
        await stores.attachments.add(plain);
        await stores.attachments.add(sneaky);
        const { attachments } = await reopen();
        expect(attachments.all()).toEqual([plain, { ...sneaky, name: safeFileName(sneaky.name) }]);
        expect(attachments.byId(sneaky.id)!.name).not.toContain('\u202E');
      }));

    it.skipIf(!fixture.isolatesValues)('hands out values: changing a record or list from a getter changes nothing stored', () =>
      withStores(async ({ stores: { attachments } }) => {
        const a = attachmentRecord('inc_1', 'ping.txt');
        await attachments.add(a);
        tamper(() => void (attachments.byId(a.id)!.incidentId = 'inc_2'));
        tamper(() => void attachments.all().pop());
        tamper(() => void attachments.forIncident('inc_1').pop());
        tamper(() => void (a.name = 'changed.txt'));
        expect(attachments.all()).toEqual([{ ...a, name: 'ping.txt', incidentId: 'inc_1' }]);
        expect(attachments.forIncident('inc_1')).toHaveLength(1);
      }));
  });
}
