/** GET /api/integrations for the admin page (#16): when each integration's last alert arrived, never its token. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Integration } from '../../shared/alerts.js';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

const list = async () => (await (await server.api('GET', '/api/integrations', { token: ADMIN_TOKEN })).json()) as Integration[];

describe('integrations for the admin page', () => {
  it('says when an integration’s last alert arrived, and nothing before the first', async () => {
    const created = (await (await server.api('POST', '/api/integrations', { token: ADMIN_TOKEN, body: { name: 'edge', kind: 'generic' } })).json()) as Integration & { token: string };
    const quiet = (await (await server.api('POST', '/api/integrations', { token: ADMIN_TOKEN, body: { name: 'quiet', kind: 'generic' } })).json()) as Integration & { token: string };
    expect((await list()).find((i) => i.id === created.id)!.lastAlertAt).toBeUndefined();

    const before = new Date().toISOString();
    const hook = await server.api('POST', '/api/hooks/generic', { token: created.token, body: { title: 'BGP down', labels: { site: 'ams' }, fingerprint: 'ams-bgp' } });
    expect(hook.status).toBe(200);
    const after = new Date().toISOString();
    const listed = await list();
    const edge = listed.find((i) => i.id === created.id)!;
    expect(edge.lastAlertAt! >= before && edge.lastAlertAt! <= after).toBe(true);
    expect(listed.find((i) => i.id === quiet.id)!.lastAlertAt).toBeUndefined();
    expect(JSON.stringify(listed)).not.toContain(created.token);
    expect(JSON.stringify(listed)).not.toMatch(/hash/i);
  });

  it('is for admins only', async () => {
    const responder = await server.createUser('responder');
    expect((await server.api('GET', '/api/integrations', { token: responder.token })).status).toBe(403);
  });
});
