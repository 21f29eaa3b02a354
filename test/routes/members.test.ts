/**
 * Who may restrict an incident to its members (its creator and admins, not any responder), and that
 * each change is in the attributed history like any other change to the incident.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEvents } from '../../shared/history.js';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let adminId: string;
beforeAll(async () => {
  server = await startTestServer();
  adminId = ((await (await server.api('GET', '/api/auth/me', { token: ADMIN_TOKEN })).json()) as { id: string }).id;
});
afterAll(async () => {
  await server.close();
});

const patch = (id: string, token: string, body: unknown) => server.api('PATCH', `/api/incidents/${id}`, { token, body });

describe('incident members', () => {
  it('lets only the creator and admins change them; another responder gets 403 and changes nothing', async () => {
    const lead = await server.createUser('responder', 'mlead');
    const other = await server.createUser('responder', 'mother');
    const incident = await server.createIncident(lead.token);

    const refused = await patch(incident.id, other.token, { members: [other.id] });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toMatch(/creator or an admin/);
    expect(((await (await server.api('GET', `/api/incidents/${incident.id}`, { token: lead.token })).json()) as { members?: string[] }).members).toBeUndefined();
    // Other changes stay open to every responder.
    expect((await patch(incident.id, other.token, { severity: 'sev2' })).status).toBe(200);

    expect((await patch(incident.id, lead.token, { members: [other.id] })).status).toBe(200);
    // A restricted incident does not exist for an admin who is not a member either.
    expect((await patch(incident.id, ADMIN_TOKEN, { members: null })).status).toBe(404);
    expect((await patch(incident.id, lead.token, { members: [other.id, adminId] })).status).toBe(200);
    // `other` is a member now, and still may not change who is.
    expect((await patch(incident.id, other.token, { members: null })).status).toBe(403);
    expect((await patch(incident.id, ADMIN_TOKEN, { members: null })).status).toBe(200);
  });

  it('records each change, by whom and when, in the incident’s history', async () => {
    const lead = await server.createUser('responder', 'hlead');
    const analyst = await server.createUser('responder', 'hanalyst');
    const incident = await server.createIncident(lead.token);
    await patch(incident.id, lead.token, { members: [analyst.id, adminId] });
    await patch(incident.id, ADMIN_TOKEN, { members: null });

    const history = (await (await server.api('GET', `/api/incidents/${incident.id}/events`, { token: lead.token })).json()) as HistoryEvents;
    const changes = history.events.flatMap((e) => e.changes.filter((c) => c.kind === 'incident' && c.field === 'members').map((c) => ({ c, by: e.userId })));
    expect(changes).toEqual([
      { c: { kind: 'incident', field: 'members', value: 'hlead, hanalyst, admin' }, by: lead.id },
      { c: { kind: 'incident', field: 'members', value: null }, by: expect.not.stringMatching(lead.id) },
    ]);
    const users = new Map(history.users.map((u) => [u.id, u.name]));
    expect(users.get(changes[1]!.by)).toBe('admin');
  });

  it('names the members of an incident created restricted in its first record', async () => {
    const lead = await server.createUser('responder', 'clead');
    const analyst = await server.createUser('responder', 'canalyst');
    const incident = await server.createIncident(lead.token, { members: [analyst.id] });
    const history = (await (await server.api('GET', `/api/incidents/${incident.id}/events`, { token: lead.token })).json()) as HistoryEvents;
    expect(history.events[0]!.changes).toContainEqual({ kind: 'incident', field: 'members', value: 'clead, canalyst' });
  });
});
