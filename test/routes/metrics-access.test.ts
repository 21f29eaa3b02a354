/** Who may scrape /metrics: nobody by default; Prometheus with METRICS_TOKEN, admins, or everyone if METRICS_PUBLIC. */
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const scrape = (s: TestServer, headers: Record<string, string> = {}) => s.api('GET', '/metrics', { headers });
const isMetrics = async (res: Response) => res.status === 200 && /^bridgelog_connections \d+$/m.test(await res.text());

describe('/metrics', () => {
  it('is closed by default, with a message that says how to open it', async () => {
    server = await startTestServer();
    const res = await scrape(server);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toMatch(/METRICS_TOKEN/);
    expect((await scrape(server, { authorization: 'Bearer not-the-token' })).status).toBe(401);
  });

  it('answers Prometheus with METRICS_TOKEN as a bearer token, and nobody with another', async () => {
    server = await startTestServer({ env: { METRICS_TOKEN: 'scrape-secret-0123456789' } });
    expect(await isMetrics(await scrape(server, { authorization: 'Bearer scrape-secret-0123456789' }))).toBe(true);
    expect((await scrape(server, { authorization: 'Bearer scrape-secret-012345678' })).status).toBe(401);
    expect((await scrape(server)).status).toBe(401);
  });

  it('answers an admin (token or session), not other users', async () => {
    server = await startTestServer({ env: { METRICS_TOKEN: 'scrape-secret-0123456789' } });
    expect(await isMetrics(await scrape(server, { authorization: `Bearer ${ADMIN_TOKEN}` }))).toBe(true);
    await server.createUser('admin', 'root2', 'correct horse battery');
    const login = await server.api('POST', '/api/auth/login', { body: { name: 'root2', password: 'correct horse battery' } });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    expect(await isMetrics(await scrape(server, { cookie }))).toBe(true);
    const responder = await server.createUser('responder');
    const refused = await scrape(server, { authorization: `Bearer ${responder.token}` });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toMatch(/admin/);
  });

  it('is open to all with METRICS_PUBLIC=true', async () => {
    server = await startTestServer({ env: { METRICS_PUBLIC: 'true' } });
    expect(await isMetrics(await scrape(server))).toBe(true);
  });
});
