/**
 * Search with several nodes (#19): the index is PostgreSQL's, shared. An entry saved on one node is
 * found on another; and one whose node was SIGKILLed before it indexed anything is still found, by the
 * other node's sweep (here no node indexes on its own commits: SEARCH_DELAY_MS is ten minutes, so
 * only the sweep can find it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEntry } from '../../shared/schema/doc.js';
import type { SearchAnswer } from '../../shared/search.js';
import { startLocalCluster, type LocalCluster } from '../../cluster/local-cluster.js';
import { connect, synced, type CollabClient } from '../helpers/collab-client.js';
import { ADMIN_TOKEN } from '../helpers/server.js';
import { api } from '../helpers/api.js';
import { printNodeLogsOnFailure } from '../helpers/cluster-logs.js';

let cluster: LocalCluster;
printNodeLogsOnFailure(() => cluster);
const clients: CollabClient[] = [];

beforeAll(async () => {
  cluster = await startLocalCluster({ nodes: 2, haproxy: false, env: { BRIDGELOG_BOOTSTRAP_TOKEN: ADMIN_TOKEN, LOG_LEVEL: 'warn', SEARCH_DELAY_MS: '600000' } });
}, 180_000);

afterAll(async () => {
  for (const c of clients) c.destroy();
  await cluster?.stop();
});

const search = async (url: string, token: string, q: string) =>
  (await (await fetch(`${url}/api/search?q=${encodeURIComponent(q)}`, { headers: { authorization: `Bearer ${token}` } })).json()) as SearchAnswer;

describe('search on several nodes', () => {
  it('finds on one node what was saved on another, even when that node died before indexing it', async () => {
    const [n1, n2] = cluster.nodes;
    const dana = await api(n1!.url, 'POST', '/api/users', ADMIN_TOKEN, { name: 'dana', role: 'responder' });
    const incident = await api(n1!.url, 'POST', '/api/incidents', dana.token, { title: 'Loss on ny-edge1' });
    const client = connect(n1!.url.replace(/^http/, 'ws'), incident.id, dana.token);
    clients.push(client);
    await synced(client);
    const id = createEntry(client.doc, { kind: 'test', title: 'okapiroute withdrawn by the carrier', ranAt: new Date().toISOString() });
    await client.saved();
    client.destroy();
    await n1!.kill();

    await expect.poll(async () => (await search(n2!.url, dana.token, 'okapiroute')).results.map((r) => r.entryId), { timeout: 15_000 }).toEqual([id]);
    const [found] = (await search(n2!.url, dana.token, 'okapiroute carrier')).results;
    expect(found).toMatchObject({ incidentId: incident.id, incidentTitle: 'Loss on ny-edge1', kind: 'test' });
  });
});
