/**
 * Search through the HTTP API as users see it (#19): entries written through the stock y-websocket
 * provider, found (ranked, filtered, with snippets) within seconds; edits, deletions and restrictions
 * followed as fast; a restricted incident found by no one outside it — in results, counts or "seen
 * before"; and every kind of bad query answered clearly. Runs again in the PostgreSQL mode
 * (`npm run test:postgres`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEntry, createHypothesis, entriesOf, entryText, setHypothesisStatus, type EntryInput } from '../../shared/schema/doc.js';
import type { SearchAnswer, SimilarAnswer } from '../../shared/search.js';
import { connect, synced, type CollabClient } from '../helpers/collab-client.js';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let dana: { id: string; token: string };
let sec: { id: string; token: string };
let viewer: { id: string; token: string };
const clients: CollabClient[] = [];

beforeAll(async () => {
  server = await startTestServer();
  dana = await server.createUser('responder', 'dana');
  sec = await server.createUser('responder', 'sec-lead');
  viewer = await server.createUser('viewer', 'vic');
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await server.close();
});

/** Opens the incident's document as `token`'s user, synced. */
async function open(incidentId: string, token: string): Promise<CollabClient> {
  const client = connect(server.wsUrl, incidentId, token);
  clients.push(client);
  await synced(client);
  return client;
}

async function log(client: CollabClient, input: Partial<EntryInput> & { title: string }): Promise<string> {
  const id = createEntry(client.doc, { kind: 'test', ranAt: new Date().toISOString(), ...input });
  await client.saved();
  return id;
}

async function search(token: string, q: string, extra = ''): Promise<{ status: number; body: SearchAnswer & { error?: string } }> {
  const res = await server.api('GET', `/api/search?q=${encodeURIComponent(q)}${extra}`, { token });
  return { status: res.status, body: (await res.json()) as SearchAnswer & { error?: string } };
}

const found = async (token: string, q: string) => (await search(token, q)).body.results ?? [];
const SOON = { timeout: 5_000, interval: 50 };

describe('search across incidents', () => {
  it('finds entries of every incident the reader may see, ranked, with snippets, conclusions and links', async () => {
    const bgp = await server.createIncident(dana.token, { title: 'BGP flap ny-edge1', severity: 'sev2' });
    const dns = await server.createIncident(dana.token, { title: 'DNS timeouts', severity: 'sev3' });
    const a = await open(bgp.id, dana.token);
    const b = await open(dns.id, dana.token);
    const flapId = await log(a, {
      title: 'Looked at the BGP session to the carrier',
      command: 'show bgp neighbors 192.0.2.1',
      observations: 'Session flapping every 40 s; the carrier confirms a maintenance window on their side tonight.',
      conclusion: 'carrier maintenance',
    });
    await log(a, { kind: 'conclusion', title: 'Carrier maintenance', conclusion: 'The carrier moved the circuit; flaps stopped at 04:12.' });
    const dnsId = await log(b, { title: 'dig against both resolvers', command: 'dig @10.0.0.53 example.com', observations: 'the second resolver times out, carrier unaffected' });

    await expect.poll(async () => (await found(dana.token, 'carrier')).length, SOON).toBe(3);
    const answer = (await search(dana.token, 'carrier maintenance')).body;
    expect(answer.total).toBe(2);
    const first = answer.results[0]!;
    expect(first).toMatchObject({
      incidentId: bgp.id,
      incidentTitle: 'BGP flap ny-edge1',
      incidentSeverity: 'sev2',
      incidentStatus: 'investigating',
      incidentConclusion: 'Carrier maintenance — The carrier moved the circuit; flaps stopped at 04:12.',
    });
    expect(answer.results.map((r) => r.entryId)).toContain(flapId);
    const flap = answer.results.find((r) => r.entryId === flapId)!;
    expect(flap).toMatchObject({ kind: 'test', title: 'Looked at the BGP session to the carrier', conclusion: 'carrier maintenance' });
    // The snippet shows the words where they are, and says where.
    expect(flap.highlights.length).toBeGreaterThan(0);
    expect(flap.highlights.map(([s, e]) => flap.snippet.slice(s, e).toLowerCase())).toEqual(expect.arrayContaining(['carrier', 'maintenance']));
    expect(Date.parse(flap.at)).not.toBeNaN();

    // Phrases, exclusions, kinds, an incident.
    expect((await found(dana.token, '"carrier unaffected"')).map((r) => r.entryId)).toEqual([dnsId]);
    expect((await found(dana.token, 'carrier -maintenance')).map((r) => r.entryId)).toEqual([dnsId]);
    expect((await found(dana.token, 'carrier kind:conclusion')).map((r) => r.kind)).toEqual(['conclusion']);
    expect((await search(dana.token, 'carrier', `&incident=${dns.id}`)).body.results.map((r) => r.entryId)).toEqual([dnsId]);
    // The incident's own title is found too, and a host by a part of its name.
    expect((await found(dana.token, 'edge1 kind:incident')).map((r) => r.incidentId)).toEqual([bgp.id]);
  });

  it('filters by severity, status, time and alert labels', async () => {
    const ny = await server.createIncident(dana.token, { title: 'Loss in ny', severity: 'sev1' });
    const sf = await server.createIncident(dana.token, { title: 'Loss in sf', severity: 'sev4' });
    await log(await open(ny.id, dana.token), { title: 'mtr to the ny pop shows zebraloss', ranAt: '2026-10-03T04:00:00.000Z' });
    await log(await open(sf.id, dana.token), { title: 'mtr to the sf pop shows zebraloss', ranAt: '2026-11-03T04:00:00.000Z' });
    // An alert labelled site=ny, attached to the ny incident.
    const hook = (await (await server.api('POST', '/api/integrations', { token: ADMIN_TOKEN, body: { name: 'search-generic', kind: 'generic' } })).json()) as { token: string };
    expect((await server.api('POST', '/api/hooks/generic', { token: hook.token, body: { title: 'PacketLoss', labels: { site: 'ny' }, fingerprint: 'search-ny' } })).status).toBe(200);
    const alerts = (await (await server.api('GET', '/api/alerts', { token: dana.token })).json()) as Array<{ id: string; fingerprint: string }>;
    const alertId = alerts.find((x) => x.fingerprint === 'search-ny')!.id;
    expect((await server.api('POST', `/api/incidents/${ny.id}/alerts`, { token: dana.token, body: { alertId } })).status).toBe(200);
    await server.api('PATCH', `/api/incidents/${sf.id}`, { token: dana.token, body: { status: 'resolved' } });

    await expect.poll(async () => (await found(dana.token, 'zebraloss')).length, SOON).toBe(2);
    await expect.poll(async () => (await found(dana.token, 'zebraloss site:ny')).map((r) => r.incidentId), SOON).toEqual([ny.id]);
    expect((await found(dana.token, 'zebraloss severity:sev4')).map((r) => r.incidentId)).toEqual([sf.id]);
    expect((await found(dana.token, 'zebraloss sev:sev1,sev2')).map((r) => r.incidentId)).toEqual([ny.id]);
    expect((await found(dana.token, 'zebraloss status:resolved')).map((r) => r.incidentId)).toEqual([sf.id]);
    expect((await found(dana.token, 'zebraloss from:2026-11-01')).map((r) => r.incidentId)).toEqual([sf.id]);
    expect((await found(dana.token, 'zebraloss to:2026-10-03')).map((r) => r.incidentId)).toEqual([ny.id]);
    // The alert itself is found by its name and labels.
    await expect.poll(async () => (await found(dana.token, 'packetloss kind:alert')).map((r) => r.incidentId), SOON).toEqual([ny.id]);
  });

  it('finds an edit within seconds, and forgets deleted entries and hypotheses as fast', async () => {
    const incident = await server.createIncident(dana.token, { title: 'Freshness' });
    const client = await open(incident.id, dana.token);
    const id = await log(client, { title: 'first look' });
    const hypothesis = createHypothesis(client.doc, 'the quokkaswitch dropped its uplink');
    entryText(client.doc, id, 'observations')!.insert(0, 'interface counters show marmosetcrc errors');
    await client.saved();
    // Found without any other change to the incident (how soon: BENCHMARKS.md, "Search" freshness).
    await expect.poll(async () => (await found(dana.token, 'marmosetcrc')).map((r) => r.entryId), SOON).toEqual([id]);
    await expect.poll(async () => (await found(dana.token, 'quokkaswitch')).map((r) => r.hypothesisId), SOON).toEqual([hypothesis]);
    setHypothesisStatus(client.doc, hypothesis, 'ruled-out');
    await client.saved();
    await expect.poll(async () => (await found(dana.token, 'quokkaswitch ruled')).length, SOON).toBe(1);

    client.doc.transact(() => entriesOf(client.doc).delete(id));
    await client.saved();
    await expect.poll(async () => (await search(dana.token, 'marmosetcrc')).body.total, SOON).toBe(0);
  });

  it('never shows a restricted incident to a non-member: no result, count, or suggestion; members find it', async () => {
    const open1 = await server.createIncident(dana.token, { title: 'Open one' });
    const secret = await server.createIncident(sec.token, { title: 'Intrusion on vaultbox', members: [sec.id] });
    const o = await open(open1.id, dana.token);
    const s = await open(secret.id, sec.token);
    await log(o, { title: 'checked pangolinauth logs', command: 'journalctl -u pangolinauth' });
    await log(s, { title: 'pangolinauth shows a stolen key', command: 'journalctl -u pangolinauth', conclusion: 'attacker used a leaked key' });
    await expect.poll(async () => (await search(sec.token, 'pangolinauth')).body.total, SOON).toBe(2);

    const outsider = (await search(dana.token, 'pangolinauth')).body;
    expect(outsider.total).toBe(1);
    expect(JSON.stringify(outsider)).not.toMatch(/stolen|vaultbox|attacker|Intrusion/);
    expect((await search(dana.token, 'stolen')).body).toMatchObject({ results: [], total: 0 });
    expect((await search(viewer.token, 'pangolinauth')).body.total).toBe(1);
    // Naming the incident is a 404, as for one that does not exist.
    expect((await search(dana.token, 'pangolinauth', `&incident=${secret.id}`)).status).toBe(404);
    expect((await search(dana.token, 'pangolinauth', `&incident=nosuchincident`)).status).toBe(404);
    // Seen before offers the open incident's entry, never the restricted one's.
    const similar = (await (await server.api('GET', `/api/search/similar?text=${encodeURIComponent('journalctl -u pangolinauth')}`, { token: dana.token })).json()) as SimilarAnswer;
    expect(similar.results.map((r) => r.incidentId)).toEqual([open1.id]);
    expect(JSON.stringify(similar)).not.toMatch(/stolen|vaultbox|attacker/);

    // Restricting an incident takes it out of searches at once; opening it brings it back.
    expect((await server.api('PATCH', `/api/incidents/${open1.id}`, { token: dana.token, body: { members: [dana.id] } })).status).toBe(200);
    expect((await search(viewer.token, 'pangolinauth')).body.total).toBe(0);
    expect((await search(dana.token, 'pangolinauth')).body.total).toBe(1);
    expect((await server.api('PATCH', `/api/incidents/${open1.id}`, { token: dana.token, body: { members: null } })).status).toBe(200);
    await expect.poll(async () => (await search(viewer.token, 'pangolinauth')).body.total, SOON).toBe(1);
  });
});

describe('seen before', () => {
  it('offers entries of other incidents with the same command, host or words, with their conclusion and why', async () => {
    const old = await server.createIncident(dana.token, { title: 'BGP flap on ny-edge7 (October)' });
    const now = await server.createIncident(dana.token, { title: 'BGP flap again' });
    const o = await open(old.id, dana.token);
    const oldEntry = await log(o, { title: 'BGP neighbour flapping on ny-edge7', command: 'show bgp neighbors 198.51.100.7', conclusion: 'carrier maintenance' });
    await log(o, { title: 'Checked the power supplies', command: 'show environment' });
    const n = await open(now.id, dana.token);
    await log(n, { title: 'BGP neighbour flapping on ny-edge7', command: 'show bgp neighbors 198.51.100.7' });

    const ask = async (text: string, incident = now.id) => {
      const res = await server.api('GET', `/api/search/similar?text=${encodeURIComponent(text)}&incident=${incident}`, { token: dana.token });
      expect(res.status).toBe(200);
      return ((await res.json()) as SimilarAnswer).results;
    };
    // The entry with the same command first (an older incident's other `show bgp neighbors` may follow).
    await expect.poll(async () => (await ask('show bgp neighbors 198.51.100.7'))[0]?.entryId, SOON).toBe(oldEntry);
    const [offer] = await ask('flapping on ny-edge7\nshow bgp neighbors 198.51.100.7');
    expect(offer).toMatchObject({ incidentId: old.id, incidentTitle: 'BGP flap on ny-edge7 (October)', conclusion: 'carrier maintenance' });
    expect(offer!.why).toEqual(expect.arrayContaining(['same command', 'host ny-edge7']));
    // Its own incident is never offered; nothing alike, nothing offered.
    expect((await ask('show bgp neighbors 198.51.100.7', old.id)).map((r) => r.incidentId)).not.toContain(old.id);
    expect(await ask('completely unrelated words here')).toEqual([]);
    expect(await ask('')).toEqual([]);
  });
});

describe('bad queries', () => {
  it('answers each with a clear message or a literal search, never a stall', async () => {
    const started = performance.now();
    const cases: Array<[string, number, RegExp?]> = [
      ['', 400, /q: what to search for/],
      ['   ', 400, /q: what to search for/],
      ['"unbalanced quote', 200],
      ['(.*)*x+$', 200],
      ['a&b|c!d:* \\ \'', 200],
      ['%_% ; DROP TABLE search_docs; --', 200],
      ['severity:sev9 loss', 400, /severity: "sev9" is not one of sev1, sev2, sev3, sev4/],
      ['status:done loss', 400, /status: "done" is not one of investigating/],
      ['from:yesterday loss', 400, /from: "yesterday" is not a UTC day/],
      ['-severity:sev1 loss', 400, /filters cannot be excluded/],
      ['-loss', 400, /nothing to search for/],
      ['unknownfilter:value', 200],
      ['日本語 ñ', 200],
    ];
    for (const [q, status, message] of cases) {
      const res = await search(dana.token, q);
      expect(res.status, q.slice(0, 40)).toBe(status);
      if (message) expect(res.body.error).toMatch(message);
      if (status === 200) expect(Array.isArray(res.body.results)).toBe(true);
    }
    for (const [extra, message] of [
      ['&limit=0', /limit: a whole number from 1 to 100/],
      ['&limit=abc', /limit/],
      ['&limit=101', /limit/],
      ['&q=again', /q: give it once/],
    ] as const) {
      const res = await server.api('GET', `/api/search?q=loss${extra}`, { token: dana.token });
      expect(res.status, extra).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(message);
    }
    // 100 KB: too long for a URL (a reason, not an empty 431); in a POST body, read and refused.
    const longUrl = await server.api('GET', `/api/search?q=${'x'.repeat(100_000)}`, { token: dana.token });
    expect(longUrl.status).toBe(431);
    expect(((await longUrl.json()) as { error: string }).error).toMatch(/too long .* POST body/);
    const longBody = await server.api('POST', '/api/search', { token: dana.token, body: { q: 'x'.repeat(100_000) } });
    expect(longBody.status).toBe(400);
    expect(((await longBody.json()) as { error: string }).error).toMatch(/too long \(100000 characters; at most 1000\)/);
    const posted = await server.api('POST', '/api/search', { token: dana.token, body: { q: 'loss', limit: 5 } });
    expect(posted.status).toBe(200);
    expect((await server.api('POST', '/api/search', { token: dana.token, body: [1] })).status).toBe(400);
    expect((await server.api('GET', `/api/search?q=loss`)).status).toBe(401);
    const huge = await server.api('GET', `/api/search/similar?text=${'y'.repeat(12_000)}`, { token: dana.token });
    expect(huge.status).toBe(400);
    expect(((await huge.json()) as { error: string }).error).toMatch(/text: too long/);
    expect((await server.api('POST', '/api/search/rebuild', { token: dana.token })).status).toBe(403);
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});

describe('the index after a restart', () => {
  it('finds what was written before the server stopped, and the rebuild command reads everything again', async () => {
    const incident = await server.createIncident(dana.token, { title: 'Before the restart' });
    const client = await open(incident.id, dana.token);
    const id = await log(client, { title: 'capybaraflow counters before restart' });
    client.destroy();
    const dataDir = server.dataDir;
    await server.close();
    server = await startTestServer({ dataDir });
    await expect.poll(async () => (await found(dana.token, 'capybaraflow')).map((r) => r.entryId), SOON).toEqual([id]);
    const rebuilt = await server.api('POST', '/api/search/rebuild', { token: ADMIN_TOKEN });
    expect(rebuilt.status).toBe(200);
    expect(((await rebuilt.json()) as { incidents: number }).incidents).toBeGreaterThan(5);
    expect((await found(dana.token, 'capybaraflow')).map((r) => r.entryId)).toEqual([id]);
  });
});
