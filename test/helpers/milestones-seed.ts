/**
 * Gives incidents milestones for the overview and trends tests (#18): through the server's milestone
 * API (`PUT /api/incidents/:id/milestones/:name {at}`) where it answers, else by writing the
 * document's `milestones` map with the stock provider, as any client may. The catalog mirrors that map
 * into the incident's record (`milestones`), which is what the overview reads.
 *
 * Until that mirror lands, `mirrorByHand` writes the record as the mirror would (the test says so
 * with `mirrored: false`), so the overview's own logic is still tested.
 */
import { vi } from 'vitest';
import type { TestServer } from './server.js';
import { connect, synced } from './collab-client.js';

export async function seedMilestones(
  server: TestServer,
  token: string,
  incidentId: string,
  milestones: Record<string, string>,
): Promise<{ via: 'api' | 'document'; mirrored: boolean }> {
  let via: 'api' | 'document' = 'api';
  for (const [name, at] of Object.entries(milestones)) {
    const res = await server.api('PUT', `/api/incidents/${incidentId}/milestones/${encodeURIComponent(name)}`, { token, body: { at } });
    if (res.status === 404 && via === 'api' && name === Object.keys(milestones)[0]) {
      via = 'document';
      break;
    }
    if (!res.ok) throw new Error(`PUT milestone ${name}: ${res.status} ${await res.text()}`);
  }
  if (via === 'document') {
    const client = connect(server.wsUrl, incidentId, token);
    try {
      await synced(client);
      client.doc.transact(() => {
        for (const [name, at] of Object.entries(milestones)) client.doc.getMap('milestones').set(name, at);
      });
      await client.saved();
    } finally {
      client.destroy();
    }
  }
  const inCatalog = () => {
    const record = server.store.incidentById(incidentId) as { milestones?: Record<string, string> } | undefined;
    return Object.entries(milestones).every(([name, at]) => record?.milestones?.[name] !== undefined && Date.parse(record.milestones[name]!) === Date.parse(at));
  };
  const mirrored = await vi.waitFor(() => {
    if (!inCatalog()) throw new Error('not mirrored yet');
  }, { timeout: 1500, interval: 20 }).then(() => true, () => false);
  if (!mirrored) await mirrorByHand(server, incidentId, milestones);
  return { via, mirrored };
}

/** What the catalog mirror does, done by hand: the record's `milestones` = the document's map. */
export async function mirrorByHand(server: TestServer, incidentId: string, milestones: Record<string, string>): Promise<void> {
  const record = server.store.incidentById(incidentId) as { milestones?: Record<string, string> } | undefined;
  const change = { milestones: { ...(record?.milestones ?? {}), ...milestones } };
  await server.store.updateIncident(incidentId, change as Parameters<TestServer['store']['updateIncident']>[1]);
}
