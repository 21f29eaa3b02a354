/** `bridgelog search` against a real server (#19): found as the web app finds it, restricted incidents never, bad queries explained. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEntry } from '../../shared/schema/doc.js';
import { connect, synced } from '../helpers/collab-client.js';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js';
import { bridgelog, cliEnv } from './bridgelog-cli.js';

let server: TestServer;
let dana: { id: string; token: string };
let sec: { id: string; token: string };
beforeAll(async () => {
  server = await startTestServer();
  dana = await server.createUser('responder', 'dana-search');
  sec = await server.createUser('responder', 'sec-search');
});
afterAll(async () => {
  await server.close();
});

const envFor = (token: string, incidentId?: string) => cliEnv(server.url, token, incidentId);

async function logEntry(incidentId: string, token: string, title: string, extra: { command?: string; conclusion?: string } = {}) {
  const client = connect(server.wsUrl, incidentId, token);
  await synced(client);
  const id = createEntry(client.doc, { kind: 'test', title, ranAt: '2026-10-03T04:12:00.000Z', ...extra });
  await client.saved();
  client.destroy();
  return id;
}

describe('bridgelog search', () => {
  it('prints each result with its incident, snippet, conclusion and link; never a restricted incident to others', async () => {
    const open = await server.createIncident(dana.token, { title: 'BGP flap ny-edge1', severity: 'sev2' });
    const secret = await server.createIncident(sec.token, { title: 'Break-in', members: [sec.id] });
    const entryId = await logEntry(open.id, dana.token, 'wombatpeer session down', { command: 'show bgp neighbors', conclusion: 'carrier maintenance' });
    await logEntry(secret.id, sec.token, 'wombatpeer key stolen');
    await expect.poll(async () => (await bridgelog(['search', 'wombatpeer'], envFor(sec.token))).stderr, { timeout: 5_000 }).toMatch(/2 of 2 results/);

    const found = await bridgelog(['search', 'wombatpeer'], envFor(dana.token));
    expect(found.code, found.stderr).toBe(0);
    expect(found.stdout).toBe(
      [
        '2026-10-03 04:12Z  BGP flap ny-edge1 (sev2, investigating)  test: wombatpeer session down',
        '    show bgp neighbors carrier maintenance',
        '    concluded: carrier maintenance',
        `    ${server.url}/incidents/${open.id}#entry-${entryId}`,
        '',
      ].join('\n'),
    );
    expect(found.stderr).toMatch(/1 of 1 result\b/);
    expect(found.stdout + found.stderr).not.toMatch(/stolen|Break-in/);

    const json = await bridgelog(['search', 'wombatpeer session', '--json'], envFor(dana.token));
    expect(JSON.parse(json.stdout)).toMatchObject({ total: 1, results: [{ incidentId: open.id, entryId, kind: 'test' }] });
    // --here: the current incident only; naming the restricted one is "does not exist".
    expect((await bridgelog(['search', 'wombatpeer', '--here'], envFor(dana.token, open.id))).stderr).toMatch(/1 of 1 result\b/);
    const hidden = await bridgelog(['search', 'wombatpeer', '--incident', secret.id], envFor(dana.token));
    expect(hidden.code).toBe(1);
    expect(hidden.stderr).toMatch(/does not exist .* or you are not a member of it \(404\)/);
  });

  it('explains a bad query, and lets only admins rebuild the index', async () => {
    const bad = await bridgelog(['search', 'loss', 'severity:sev9'], envFor(dana.token));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/severity: "sev9" is not one of sev1, sev2, sev3, sev4 \(400\)/);
    const long = await bridgelog(['search', 'x'.repeat(5_000)], envFor(dana.token));
    expect(long.stderr).toMatch(/too long \(5000 characters; at most 1000\)/);
    expect((await bridgelog(['search'], envFor(dana.token))).code).toBe(2);
    const refused = await bridgelog(['search', '--rebuild'], envFor(dana.token));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/403/);
    const rebuilt = await bridgelog(['search', '--rebuild'], envFor(ADMIN_TOKEN));
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(rebuilt.stdout).toMatch(/read \d+ incidents into the search index/);
  });
});
