/** `bridgelog milestone` against a real server (#18): set, back-date relative to the server's clock, list, remove, refuse. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../shared/api.js';
import type { IncidentMilestones } from '../../shared/schema/milestones.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { bridgelog, cliEnv } from './bridgelog-cli.js';

let server: TestServer;
let dana: { id: string; token: string };
let viewer: { id: string; token: string };
beforeAll(async () => {
  server = await startTestServer();
  dana = await server.createUser('responder', 'dana-cli');
  viewer = await server.createUser('viewer', 'vera-cli');
});
afterAll(async () => {
  await server.close();
});

const envFor = (token: string, incidentId?: string) => cliEnv(server.url, token, incidentId);
const milestones = async (id: string) => (await (await server.api('GET', `/api/incidents/${id}/milestones`, { token: dana.token })).json()) as IncidentMilestones;

describe('bridgelog milestone', () => {
  it('sets one now or back-dated (-5m from the server\'s clock), by any spelling of its name, as the token\'s user', async () => {
    const { id } = await server.createIncident(dana.token);
    const env = envFor(dana.token, id);
    const mitigated = await bridgelog(['milestone', 'mitigated', '--at', '-5m'], env);
    expect(mitigated.code, mitigated.stderr).toBe(0);
    // Set five minutes after the time it names: right at backfilledAfterMs, marked or not by a millisecond.
    expect(mitigated.stderr).toMatch(/Mitigated at \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ( \(back-filled\))?, set by dana-cli/);
    expect(mitigated.stdout).toBe('');
    expect((await bridgelog(['milestone', 'impact-started', '--at', '-1h'], env)).code).toBe(0);
    expect((await bridgelog(['milestone', 'customers notified', '--incident', id], { ...env, BRIDGELOG_INCIDENT: '' })).code).toBe(0);

    const answer = await milestones(id);
    expect(answer.milestones.map((m) => [m.name, m.setBy.name])).toEqual([['impactStarted', 'dana-cli'], ['mitigated', 'dana-cli'], ['customers notified', 'dana-cli']]);
    const at = Date.parse(answer.milestones[1]!.at);
    expect(Math.abs(at - (Date.now() - 5 * 60_000))).toBeLessThan(30_000);
    expect(answer.milestones[0]!.backfilled).toBe(true);
    expect(answer.milestones[2]!.backfilled).toBe(false);

    const listed = await bridgelog(['milestone'], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/Impact started\s+dana-cli/);
    expect(listed.stdout).toMatch(/Time to mitigate\s+5[45]m \d\ds\n/);
    expect(listed.stdout).toMatch(/Time to resolve\s+1h 0\dm \(running\)\n/);
  });

  it('resolves the incident with resolved, and --remove reopens it', async () => {
    const { id } = await server.createIncident(dana.token);
    const env = envFor(dana.token, id);
    expect((await bridgelog(['milestone', 'resolved'], env)).code).toBe(0);
    const incident = async () => (await (await server.api('GET', `/api/incidents/${id}`, { token: dana.token })).json()) as Incident;
    expect((await incident()).status).toBe('resolved');
    const removed = await bridgelog(['milestone', 'resolved', '--remove'], env);
    expect(removed.code).toBe(0);
    expect(removed.stderr).toContain('the history keeps it');
    expect((await incident()).status).toBe('monitoring');
  });

  it('refuses bad times and names, and viewers, saying why, and sets nothing', async () => {
    const { id } = await server.createIncident(dana.token);
    const env = envFor(dana.token, id);
    const garbled = await bridgelog(['milestone', 'mitigated', '--at', 'five minutes ago'], env);
    expect(garbled).toMatchObject({ code: 2 });
    expect(garbled.stderr).toMatch(/--at: expected an ISO-8601 time with a zone/);
    const future = await bridgelog(['milestone', 'mitigated', '--at', new Date(Date.now() + 3600_000).toISOString()], env);
    expect(future).toMatchObject({ code: 1 });
    expect(future.stderr).toMatch(/is in the future/);
    const long = await bridgelog(['milestone', 'x'.repeat(65)], env);
    expect(long.code).toBe(1);
    expect(long.stderr).toMatch(/at most 64 characters/);
    const byViewer = await bridgelog(['milestone', 'detected'], envFor(viewer.token, id));
    expect(byViewer.code).toBe(1);
    expect(byViewer.stderr).toMatch(/responder role.*\(403\)/);
    expect((await bridgelog(['milestone', '--at', '-5m'], env)).code).toBe(2);
    expect((await bridgelog(['milestone', 'detected'], envFor(dana.token, 'no-such-incident'))).stderr).toMatch(/does not exist/);
    expect((await milestones(id)).milestones).toEqual([]);

    const help = await bridgelog(['help'], env);
    expect(help.stdout).toContain('milestone NAME [--at TIME]');
  });
});
