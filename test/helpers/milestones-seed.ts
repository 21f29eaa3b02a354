/**
 * Gives incidents milestones for the overview and trends tests (#18) through the server's milestone
 * API (`PUT /api/incidents/:id/milestones/:name {at}`), then waits until the catalog's copy of them
 * (the incident record's `milestones`, which is what the overview and trends read) has them all.
 */
import { vi } from 'vitest';
import type { TestServer } from './server.js';

export async function seedMilestones(server: TestServer, token: string, incidentId: string, milestones: Record<string, string>): Promise<void> {
  for (const [name, at] of Object.entries(milestones)) {
    const res = await server.api('PUT', `/api/incidents/${incidentId}/milestones/${encodeURIComponent(name)}`, { token, body: { at } });
    if (!res.ok) throw new Error(`PUT milestone ${name}: ${res.status} ${await res.text()}`);
  }
  await vi.waitFor(() => {
    const record = server.store.incidentById(incidentId);
    for (const [name, at] of Object.entries(milestones)) {
      const stored = record?.milestones?.[name];
      if (stored === undefined || Date.parse(stored) !== Date.parse(at)) throw new Error(`milestone ${name} is not in the catalog`);
    }
  }, { timeout: 5000, interval: 20 });
}
