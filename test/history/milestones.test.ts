/**
 * Who set each milestone is read from the incident's history (#18): it survives a restart that loads
 * the document from a checkpoint, follows the value that won, and shows in the catch-up digest.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Digest, DigestItem } from '../../shared/history.js';
import { milestonesOf, type IncidentMilestones } from '../../shared/schema/milestones.js';
import { connect, synced } from '../helpers/collab-client.js';
import { ADMIN_TOKEN, startTestServer, tempDataDir, type TestServer } from '../helpers/server.js';

const servers: TestServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

const milestones = async (server: TestServer, id: string, token: string) =>
  (await (await server.api('GET', `/api/incidents/${id}/milestones`, { token })).json()) as IncidentMilestones;

describe('milestone authorship from the history', () => {
  it('names who set each, from the log, after a restart from a checkpoint', async () => {
    const dataDir = tempDataDir();
    // A checkpoint every 2 records: after the restart the document comes mostly from a checkpoint.
    const first = await startTestServer({ dataDir, config: { checkpointEvery: 2 } });
    const dana = await first.createUser('responder', 'dana');
    const kim = await first.createUser('responder', 'kim');
    const { id } = await first.createIncident(dana.token);
    const put = (token: string, name: string, at: string) => first.api('PUT', `/api/incidents/${id}/milestones/${name}`, { token, body: { at } });
    expect((await put(dana.token, 'impactStarted', '-2h')).status).toBe(200);
    expect((await put(dana.token, 'detected', '-90m')).status).toBe(200);
    // Kim, in the web app, writes the map directly; then corrects dana's detected time.
    const c = connect(first.wsUrl, id, kim.token);
    await synced(c);
    milestonesOf(c.doc).set('acknowledged', new Date(Date.now() - 60 * 60_000).toISOString());
    await c.saved();
    c.destroy();
    expect((await put(kim.token, 'detected', '-80m')).status).toBe(200);
    expect((await put(dana.token, 'mitigated', '-1m')).status).toBe(200);
    const before = await milestones(first, id, ADMIN_TOKEN);
    await first.close();

    const second = await startTestServer({ dataDir, config: { checkpointEvery: 2 } });
    servers.push(second);
    const after = await milestones(second, id, ADMIN_TOKEN);
    expect(after.milestones).toEqual(before.milestones);
    expect(after.milestones.map((m) => [m.name, m.setBy.name, m.backfilled])).toEqual([
      ['impactStarted', 'dana', true],
      ['detected', 'kim', true],
      ['acknowledged', 'kim', true],
      ['mitigated', 'dana', false],
    ]);
    const detected = after.milestones.find((m) => m.name === 'detected')!;
    const history = (await (await second.api('GET', `/api/incidents/${id}/history`, { token: ADMIN_TOKEN })).json()) as Array<{ at: string; userName: string }>;
    // setAt is the receive time of the record that wrote the value now held, not of the first one.
    expect(history.filter((h) => h.userName === 'kim').map((h) => h.at)).toContain(detected.setAt);

    const digest = (await (await second.api('GET', `/api/incidents/${id}/digest?sinceSeq=0`, { token: ADMIN_TOKEN })).json()) as Digest;
    const items = digest.items.filter((i): i is Extract<DigestItem, { kind: 'milestone' }> => i.kind === 'milestone');
    expect(items.map((i) => [i.name, i.label, i.from, i.to, i.by.map((b) => b.name)])).toEqual(expect.arrayContaining([
      ['mitigated', 'Mitigated', null, after.milestones[3]!.at, ['dana']],
      ['detected', 'Detected', null, detected.at, ['dana', 'kim']],
    ]));
  });
});
