/**
 * Alerts tell one story (#16): suggestions rank the alerts attached to this incident first, then
 * those its label matchers match, and say so ("attached to this incident", "matches site=ny"); an
 * alert also on another incident says which — never naming a restricted incident the reader is not
 * a member of.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert, AlertSuggestion } from '../../shared/alerts.js';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let kim: { id: string; token: string };
let mallory: { id: string; token: string };
let hookToken: string;
beforeAll(async () => {
  server = await startTestServer();
  kim = await server.createUser('responder', 'kim');
  mallory = await server.createUser('responder', 'mallory');
  hookToken = ((await (await server.api('POST', '/api/integrations', { token: ADMIN_TOKEN, body: { name: 'mon', kind: 'generic' } })).json()) as { token: string }).token;
});
afterAll(async () => {
  await server.close();
});

const fire = async (title: string, labels: Record<string, string>, startsAt: string, endsAt?: string) => {
  expect((await server.api('POST', '/api/hooks/generic', { token: hookToken, body: { title, labels, startsAt, ...(endsAt ? { endsAt } : {}), fingerprint: title } })).status).toBe(200);
  const all = (await (await server.api('GET', '/api/alerts', { token: ADMIN_TOKEN })).json()) as Alert[];
  return all.find((a) => a.title === title)!;
};
const attach = async (token: string, incidentId: string, alertId: string) =>
  expect((await server.api('POST', `/api/incidents/${incidentId}/alerts`, { token, body: { alertId } })).status).toBe(200);

describe('alert suggestions', () => {
  it('puts this incident’s alerts first, then its matchers’, says why, and names other incidents only to those who may see them', async () => {
    // Declared with matchers, the incident takes all three ny alerts; two are then detached by hand,
    // so they are matched but not attached.
    const far = await fire('ny-sw02 flaps', { site: 'ny' }, '2026-05-01T08:30:00Z');
    const near = await fire('ny-sw01 discards', { site: 'ny' }, '2026-05-01T10:00:00Z');
    const shared = await fire('ny uplink errors', { site: 'ny', link: 'uplink' }, '2026-05-01T09:40:00Z', '2026-05-01T09:50:00Z');
    await fire('ams latency', { site: 'ams' }, '2026-05-01T10:01:30Z');

    const incident = await server.createIncident(kim.token, { title: 'ny packet loss', alertMatchers: ['site=ny'] });
    const other = await server.createIncident(kim.token, { title: 'uplink maintenance' });
    const secret = await server.createIncident(mallory.token, { title: 'Intrusion on db', members: [mallory.id] });
    await attach(kim.token, incident.id, far.id);
    for (const a of [near, shared]) expect((await server.api('DELETE', `/api/incidents/${incident.id}/alerts/${a.id}`, { token: kim.token })).status).toBe(200);
    await attach(kim.token, other.id, shared.id);
    await attach(mallory.token, secret.id, shared.id);

    const suggest = async (token: string) =>
      (await (await server.api('GET', `/api/incidents/${incident.id}/alert-suggestions?at=2026-05-01T10:02:00Z`, { token })).json()) as AlertSuggestion[];
    const forKim = await suggest(kim.token);
    // Attached first though furthest in time; then those the matchers match, nearest first.
    expect(forKim.map((s) => s.alert.title)).toEqual(['ny-sw02 flaps', 'ny-sw01 discards', 'ny uplink errors']);
    expect(forKim.map((s) => s.reason)).toEqual([
      'attached to this incident, firing when this test ran (since 92 min before), same site',
      'matches site=ny, firing when this test ran (since 2 min before)',
      'matches site=ny, resolved 12 min before this test, on “uplink maintenance”',
    ]);
    expect(JSON.stringify(forKim)).not.toContain('Intrusion');
    expect(JSON.stringify(forKim)).not.toContain(secret.id);

    // Mallory, a member of the restricted incident, is told of it.
    const forMallory = await suggest(mallory.token);
    expect(forMallory.find((s) => s.alert.title === 'ny uplink errors')!.reason).toContain('“Intrusion on db”');
  });
});
