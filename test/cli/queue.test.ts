/**
 * When the server is down or refuses the token, nothing is lost: the command's exit code and output
 * pass through, the entry waits in the local queue, and the next bridgelog call delivers it first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentAuthors } from '../../shared/api.js';
import { createEntry, listEntries } from '../../shared/schema/doc.js';
import { connect, synced, type CollabClient } from '../helpers/collab-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { bridgelog, cliHome, queuedEntries } from './bridgelog-cli.js';

let server: TestServer;
let bob: { id: string; name: string; token: string };
const clients: CollabClient[] = [];

beforeAll(async () => {
  server = await startTestServer();
  bob = await server.createUser('responder', 'bob-cli');
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await server.close();
});

async function entriesOf(incidentId: string) {
  const c = connect(server.wsUrl, incidentId, bob.token);
  clients.push(c);
  await synced(c);
  return listEntries(c.doc);
}

describe('the local queue', () => {
  it('keeps a run made while the server is down, and the next call delivers it with its original times', async () => {
    const incident = await server.createIncident(bob.token);
    const home = cliHome();
    const env = { BRIDGELOG_URL: server.url, BRIDGELOG_TOKEN: bob.token, BRIDGELOG_HOME: home, BRIDGELOG_INCIDENT: incident.id };
    const { dataDir } = server;
    const port = new URL(server.url).port;
    await server.close();

    const before = Date.now();
    const down = await bridgelog(['run', '--', 'sh', '-c', 'echo "rx errors 1532"; echo "link flap" >&2; exit 5'], env);
    const after = Date.now();
    expect(down.code).toBe(5);
    expect(down.stdout).toBe('rx errors 1532\n');
    expect(down.stderr).toContain('NOT logged yet: cannot reach');
    expect(down.stderr).toContain('connection refused (is the server running?)');
    expect(down.stderr).toContain('the next bridgelog command sends it');
    const [queued] = queuedEntries(home);
    expect(queued).toMatchObject({ title: `sh -c 'echo "rx errors 1532"; echo "link flap" >&2; exit 5'` });
    expect(fs.readFileSync(path.join(home, 'queue', queued!.entryId, 'stdout.txt'), 'utf8')).toBe('rx errors 1532\n');
    const listed = await bridgelog(['queue'], env);
    expect(listed.stdout).toContain(queued!.entryId);
    expect(listed.stdout).toContain('last attempt: cannot reach');

    // A second call while it is still down keeps both, in order.
    const note = await bridgelog(['log', 'switch stack rebooted'], env);
    expect(note.code).toBe(75);
    expect(queuedEntries(home)).toHaveLength(2);

    server = await startTestServer({ dataDir, env: { PORT: port } });
    const next = await bridgelog(['incidents'], env);
    expect(next.code).toBe(0);
    expect(next.stdout).toContain(incident.id);
    expect(next.stderr).toContain('delivered a queued entry');
    expect(queuedEntries(home)).toEqual([]);

    const [run, rebooted] = await entriesOf(incident.id);
    expect(run).toMatchObject({ kind: 'test', command: `sh -c 'echo "rx errors 1532"; echo "link flap" >&2; exit 5'` });
    // When it ran, not when it was delivered.
    expect(Date.parse(run!.ranAt)).toBeGreaterThanOrEqual(before - 50);
    expect(Date.parse(run!.ranAt)).toBeLessThanOrEqual(after);
    expect(run!.observations).toContain('- exit code: 5');
    expect(run!.observations).toContain('rx errors 1532\nlink flap');
    expect(run!.attachments).toHaveLength(2);
    expect(rebooted).toMatchObject({ kind: 'note', title: 'switch stack rebooted' });
    const authors = (await (await server.api('GET', `/api/incidents/${incident.id}/authors`, { token: bob.token })).json()) as IncidentAuthors;
    expect(authors.entries[run!.id]?.createdBy.name).toBe('bob-cli');
  });

  it('keeps an entry the server refused for a wrong token, and delivers it once the token is right', async () => {
    const incident = await server.createIncident(bob.token);
    const home = cliHome();
    const env = { BRIDGELOG_URL: server.url, BRIDGELOG_HOME: home, BRIDGELOG_INCIDENT: incident.id };
    const attachment = path.join(home, 'ny-sw01-show-int.txt');
    fs.writeFileSync(attachment, 'Gi0/1 is up, line protocol is up\n  1532 input errors\n');

    const refused = await bridgelog(['log', 'input errors on Gi0/1', '--attach', attachment], { ...env, BRIDGELOG_TOKEN: 'bl_wrong-token' });
    expect(refused.code).toBe(75);
    expect(refused.stderr).toContain('refused the API token (401): check BRIDGELOG_TOKEN, or run `bridgelog login`');
    // The attached file is kept with the entry: deleting the original loses nothing.
    fs.rmSync(attachment);

    const delivered = await bridgelog(['log', 'second note'], { ...env, BRIDGELOG_TOKEN: bob.token });
    expect(delivered.code).toBe(0);
    expect(delivered.stderr).toContain('delivered a queued entry to incident');
    expect(queuedEntries(home)).toEqual([]);
    const entries = await entriesOf(incident.id);
    expect(entries.map((e) => e.title)).toEqual(['input errors on Gi0/1', 'second note']);
    const [file] = (await (await server.api('GET', `/api/incidents/${incident.id}/attachments`, { token: bob.token })).json()) as Array<{ id: string; name: string }>;
    expect(file?.name).toBe('ny-sw01-show-int.txt');
    expect(entries[0]!.attachments).toEqual([file!.id]);
  });

  it('never logs an entry twice: a retry that finds it already on the server only confirms it', async () => {
    const incident = await server.createIncident(bob.token);
    const home = cliHome();
    const env = { BRIDGELOG_URL: server.url, BRIDGELOG_TOKEN: 'bl_wrong-token', BRIDGELOG_HOME: home, BRIDGELOG_INCIDENT: incident.id };
    expect((await bridgelog(['log', 'bgp session to edge01 reset'], env)).code).toBe(75);
    const [queued] = queuedEntries(home);
    // As if an earlier attempt had reached the server and only its confirmation was lost.
    const c = connect(server.wsUrl, incident.id, bob.token);
    clients.push(c);
    await synced(c);
    createEntry(c.doc, { kind: 'note', title: 'bgp session to edge01 reset', ranAt: new Date().toISOString() }, queued!.entryId);
    await c.saved();

    const sent = await bridgelog(['queue', 'send'], { ...env, BRIDGELOG_TOKEN: bob.token });
    expect(sent.code).toBe(0);
    expect(queuedEntries(home)).toEqual([]);
    expect((await entriesOf(incident.id)).map((e) => e.id)).toEqual([queued!.entryId]);
  });

  it('lets a person drop a queued entry the server will never take', async () => {
    const home = cliHome();
    const env = { BRIDGELOG_URL: server.url, BRIDGELOG_TOKEN: bob.token, BRIDGELOG_HOME: home, BRIDGELOG_INCIDENT: 'no-such-incident' };
    const result = await bridgelog(['log', 'lost note'], env);
    expect(result.code).toBe(75);
    expect(result.stderr).toContain('incident no-such-incident does not exist, or you are not a member of it (4404)');
    const [queued] = queuedEntries(home);
    const dropped = await bridgelog(['queue', 'drop', queued!.entryId.slice(0, 6)], env);
    expect(dropped.code).toBe(0);
    expect(queuedEntries(home)).toEqual([]);
  });
});
