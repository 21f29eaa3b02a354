/**
 * The history API behind the timeline, replay and catch-up, over HTTP with stock y-websocket
 * clients: the fast replay agrees with `state?at=` (the reference) at every record, playing forward
 * from any point reaches the present, the event index names who did what, and a latecomer's
 * "since you left" digest lists exactly what changed while they were away.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import type { HistoryRecord } from '../../shared/api.js';
import type { Digest, HistoryEvents } from '../../shared/history.js';
import { decodeReplayRecords, REPLAY_RECORDS_TYPE } from '../../shared/replay-wire.js';
import {
  createEntry,
  createHypothesis,
  entriesOf,
  entryText,
  hypothesesOf,
  listEntries,
  metaOf,
  setHypothesisStatus,
  setMeta,
} from '../../shared/schema/doc.js';
import { connect, synced, type CollabClient } from '../helpers/collab-client.js';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let kim: { id: string; token: string };
let lee: { id: string; token: string };
beforeAll(async () => {
  server = await startTestServer({ config: { seenAfterMs: 1000 } });
  kim = await server.createUser('responder', 'kim');
  lee = await server.createUser('viewer', 'lee');
});
afterAll(async () => {
  await server.close();
});

const sorted = (value: unknown): unknown =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, sorted((value as Record<string, unknown>)[k])]))
    : Array.isArray(value) ? value.map(sorted) : value;
const contentOf = (doc: Y.Doc) => sorted({ meta: metaOf(doc).toJSON(), entries: entriesOf(doc).toJSON(), hypotheses: hypothesesOf(doc).toJSON() });

async function docFrom(res: Response): Promise<Y.Doc> {
  expect(res.status).toBe(200);
  const doc = new Y.Doc();
  Y.applyUpdate(doc, new Uint8Array(await res.arrayBuffer()));
  return doc;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

const historyOf = async (c: CollabClient) =>
  (await (await server.api('GET', `/api/incidents/${c.provider.roomname}/history`, { token: kim.token })).json()) as HistoryRecord[];

/**
 * An edit that becomes one record, on disk before the next (waiting for the record itself: a
 * deletion does not advance the client's clock, so "saved" cannot tell), with its own receive time.
 */
async function step(c: CollabClient, change: (doc: Y.Doc) => void) {
  const before = (await historyOf(c)).length;
  c.doc.transact(() => change(c.doc));
  await vi.waitFor(async () => { const h = await historyOf(c); expect(h.length, JSON.stringify(h.map((r) => [r.seq, r.userName, r.bytes]))).toBe(before + 1); });
  await pause(3);
}

describe('replay', () => {
  it('agrees with state?at= at every record, and plays forward from any point to the present', async () => {
    const incident = await server.createIncident(kim.token);
    const c = connect(server.wsUrl, incident.id, kim.token);
    await synced(c);
    let id = '';
    await step(c, (d) => (id = createEntry(d, { kind: 'test', title: 'ping gw', ranAt: '2026-03-04T06:00:00.000Z', command: 'ping -c 3 10.0.0.1' })));
    for (const word of ['3 ', 'of ', '3 ', 'lost']) await step(c, (d) => entryText(d, id, 'observations')!.insert(entryText(d, id, 'observations')!.length, word));
    await step(c, (d) => entryText(d, id, 'observations')!.delete(0, 2));
    const h = { id: '' };
    await step(c, (d) => (h.id = createHypothesis(d, 'uplink saturated')));
    await step(c, (d) => setHypothesisStatus(d, h.id, 'ruled-out'));
    await step(c, (d) => setMeta(d, { status: 'monitoring' }));
    await step(c, (d) => entriesOf(d).delete(id));

    const history = (await (await server.api('GET', `/api/incidents/${incident.id}/history`, { token: lee.token })).json()) as HistoryRecord[];
    expect(history).toHaveLength(11);
    for (const record of history) {
      const at = encodeURIComponent(record.at);
      const reference = await docFrom(await server.api('GET', `/api/incidents/${incident.id}/state?at=${at}`, { token: lee.token }));
      const byTime = await server.api('GET', `/api/incidents/${incident.id}/replay/state?at=${at}`, { token: lee.token });
      expect(byTime.headers.get('x-bridgelog-seq')).toBe(String(record.seq));
      expect(byTime.headers.get('x-bridgelog-at')).toBe(record.at);
      expect(contentOf(await docFrom(byTime)), `at ${record.at}`).toEqual(contentOf(reference));
      const bySeq = await docFrom(await server.api('GET', `/api/incidents/${incident.id}/replay/state?seq=${record.seq}`, { token: lee.token }));
      expect(contentOf(bySeq)).toEqual(contentOf(reference));
    }

    // Play forward from the middle: the records after it, applied in order, give the present.
    const middle = Math.floor(history.length / 2);
    const replayed = await docFrom(await server.api('GET', `/api/incidents/${incident.id}/replay/state?seq=${middle}`, { token: lee.token }));
    const res = await server.api('GET', `/api/incidents/${incident.id}/replay/updates?after=${middle}`, { token: lee.token });
    expect(res.headers.get('content-type')).toContain(REPLAY_RECORDS_TYPE);
    const records = decodeReplayRecords(new Uint8Array(await res.arrayBuffer()));
    expect(records.map((r) => r.seq)).toEqual(history.slice(middle).map((h) => h.seq));
    expect(records.every((r) => r.userId === kim.id)).toBe(true);
    for (const r of records) Y.applyUpdate(replayed, r.update);
    expect(contentOf(replayed)).toEqual(contentOf(c.doc));
    const page = decodeReplayRecords(new Uint8Array(await (await server.api('GET', `/api/incidents/${incident.id}/replay/updates?after=2&limit=3`, { token: lee.token })).arrayBuffer()));
    expect(page.map((r) => r.seq)).toEqual([3, 4, 5]);

    // Before the incident existed: empty. Bad input: 400 naming the parameter.
    const before = await docFrom(await server.api('GET', `/api/incidents/${incident.id}/replay/state?at=2000-01-01T00:00:00Z`, { token: lee.token }));
    expect(listEntries(before)).toEqual([]);
    for (const [query, field] of [['at=yesterday', 'at'], ['seq=-1', 'seq'], ['seq=1e3', 'seq']] as const) {
      const bad = await server.api('GET', `/api/incidents/${incident.id}/replay/state?${query}`, { token: lee.token });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ field });
    }
    expect((await server.api('GET', `/api/incidents/${incident.id}/replay/updates?limit=0`, { token: lee.token })).status).toBe(400);
    expect((await server.api('GET', `/api/incidents/${incident.id}/replay/state`)).status).toBe(401);
    expect((await server.api('GET', `/api/incidents/nope/replay/state`, { token: lee.token })).status).toBe(404);
    c.destroy();
  });

  it('indexes the history as events: who did what, typing folded into one event, paged by seq', async () => {
    const incident = await server.createIncident(kim.token);
    const c = connect(server.wsUrl, incident.id, kim.token);
    await synced(c);
    let id = '';
    await step(c, (d) => (id = createEntry(d, { kind: 'test', title: 'mtr to ams', ranAt: '2026-03-04T06:00:00.000Z' })));
    for (const word of ['loss ', 'at ', 'hop 4']) await step(c, (d) => entryText(d, id, 'conclusion')!.insert(entryText(d, id, 'conclusion')!.length, word));
    await pause(5);
    setMeta(c.doc, { status: 'resolved' }); // two records: this, and the server's that follows it
    await c.saved();

    // Resolving sets the resolved milestone (#18): the server's change of its own, under kim's name.
    const events = async () => (await (await server.api('GET', `/api/incidents/${incident.id}/events`, { token: lee.token })).json()) as HistoryEvents;
    await vi.waitFor(async () => expect((await events()).events.at(-1)!.changes.at(-1)!.kind).toBe('milestone'));
    const index = await events();
    expect(index.users).toEqual([{ id: kim.id, name: 'kim' }]);
    const kinds = index.events.map((e) => e.changes.map((ch) => ch.kind).join('+'));
    expect(kinds).toEqual(['incident+incident+incident+incident', 'entry-added', 'entry-changed', 'incident', 'incident+milestone']);
    expect(index.events[0]!.changes.map((ch) => (ch.kind === 'incident' ? ch.field : '')).sort()).toEqual(['severity', 'startedAt', 'status', 'title']);
    const typing = index.events[2]!;
    expect(typing.toSeq - typing.seq).toBe(2);
    expect(typing.changes[0]).toMatchObject({ entry: id, fields: ['conclusion'] });
    expect(index.events[3]!.changes).toEqual([{ kind: 'incident', field: 'status', value: 'resolved' }]);
    const resolvedAt = expect.stringMatching(/Z$/);
    expect(index.events[4]!.changes).toEqual([{ kind: 'incident', field: 'resolvedAt', value: resolvedAt }, { kind: 'milestone', name: 'resolved', value: resolvedAt }]);
    expect(index.seq).toBe(index.events[4]!.toSeq);
    const records = await historyOf(c);
    expect([index.firstAt, index.lastAt]).toEqual([records[0]!.at, records.at(-1)!.at]);
    const later = (await (await server.api('GET', `/api/incidents/${incident.id}/events?after=${typing.toSeq}`, { token: lee.token })).json()) as HistoryEvents;
    expect(later.events.map((e) => e.seq)).toEqual([index.events[3]!.seq, index.events[4]!.seq]);
    c.destroy();
  });
});

describe('catch-up', () => {
  it('tells a returning viewer exactly what changed since they left, and nothing once they have seen it', async () => {
    const alerting = (await (await server.api('POST', '/api/integrations', { token: ADMIN_TOKEN, body: { name: 'gen', kind: 'generic' } })).json()) as { token: string };
    const incident = await server.createIncident(kim.token, { alertMatchers: ['site=ny'] });
    const k = connect(server.wsUrl, incident.id, kim.token);
    await synced(k);
    let known = '';
    let hypothesis = '';
    await step(k, (d) => {
      known = createEntry(d, { kind: 'test', title: 'ping gw', ranAt: '2026-03-04T06:00:00.000Z' });
      createEntry(d, { kind: 'note', title: 'untouched', ranAt: '2026-03-04T06:01:00.000Z' });
      hypothesis = createHypothesis(d, 'uplink saturated');
    });

    // An alert on the incident already, and one in the inbox.
    const hook = (body: Record<string, unknown>) => server.api('POST', '/api/hooks/generic', { token: alerting.token, body });
    expect((await hook({ title: 'Old flap on ny-sw02', labels: { site: 'ny' }, fingerprint: 'fp-old' })).status).toBe(200);
    expect((await hook({ title: 'BGP session down', labels: { site: 'ams' }, fingerprint: 'fp-bgp' })).status).toBe(200);
    const alertId = async (title: string) => ((await (await server.api('GET', '/api/alerts', { token: kim.token })).json()) as Array<{ id: string; title: string }>).find((a) => a.title === title)!.id;

    // Lee reads along for a while, then leaves.
    const l = connect(server.wsUrl, incident.id, lee.token);
    await synced(l);
    await pause(1100);
    l.destroy();
    await vi.waitFor(async () => {
      const d = (await (await server.api('GET', `/api/incidents/${incident.id}/digest`, { token: lee.token })).json()) as Digest;
      expect(d.sinceLastSeen).toBe(true);
    });

    // While Lee is away.
    let added = '';
    await step(k, (d) => (added = createEntry(d, { kind: 'test', title: 'iperf to ams', ranAt: '2026-03-04T06:05:00.000Z', conclusion: 'line rate' })));
    await step(k, (d) => entryText(d, known, 'conclusion')!.insert(0, 'gw answers'));
    await step(k, (d) => (entriesOf(d).get(known)!.get('links') as Y.Array<{ url: string; label: string }>).push([{ url: 'https://grafana/d/1', label: 'dash' }]));
    await step(k, (d) => setHypothesisStatus(d, hypothesis, 'ruled-out'));
    await step(k, (d) => setMeta(d, { status: 'monitoring' }));
    await step(k, (d) => entryText(d, added, 'observations')!.insert(0, 'typed'));
    await step(k, (d) => entryText(d, added, 'observations')!.delete(0, 5)); // typed and taken back: no news
    const fired = await server.api('POST', '/api/hooks/generic', { token: alerting.token, body: { title: 'Discards on ny-sw01', labels: { site: 'ny' }, fingerprint: 'fp-1' } });
    expect(fired.status).toBe(200);
    // Kim detaches the old alert and attaches the inbox one by hand; an alert attached and detached
    // again while Lee was away is no news.
    expect((await server.api('DELETE', `/api/incidents/${incident.id}/alerts/${await alertId('Old flap on ny-sw02')}`, { token: kim.token })).status).toBe(200);
    expect((await server.api('POST', `/api/incidents/${incident.id}/alerts`, { token: kim.token, body: { alertId: await alertId('BGP session down') } })).status).toBe(200);
    expect((await hook({ title: 'Fan tray', labels: { site: 'lon' }, fingerprint: 'fp-fan' })).status).toBe(200);
    const fan = await alertId('Fan tray');
    expect((await server.api('POST', `/api/incidents/${incident.id}/alerts`, { token: kim.token, body: { alertId: fan } })).status).toBe(200);
    expect((await server.api('DELETE', `/api/incidents/${incident.id}/alerts/${fan}`, { token: kim.token })).status).toBe(200);

    // A glance (a reload, say) does not count as having seen it.
    const glance = connect(server.wsUrl, incident.id, lee.token);
    await synced(glance);
    glance.destroy();
    await pause(100);

    const digest = (await (await server.api('GET', `/api/incidents/${incident.id}/digest`, { token: lee.token })).json()) as Digest;
    expect(digest.sinceLastSeen).toBe(true);
    const lines = digest.items.map((i) => {
      switch (i.kind) {
        case 'entry-added': return `${i.kind} ${i.title} ${i.conclusion} by ${i.by.map((u) => u.name)}`;
        case 'conclusion': return `${i.kind} ${i.title}: "${i.previous}" → "${i.conclusion}" by ${i.by.map((u) => u.name)}`;
        case 'evidence': return `${i.kind} ${i.title} +${i.links} link`;
        case 'verdict': return `${i.kind} ${i.statement}: ${i.from} → ${i.to}`;
        case 'incident': return `${i.kind} ${i.field}: ${i.from} → ${i.to}`;
        case 'alert-fired': return `${i.kind} ${i.title}`;
        case 'alert-attached':
        case 'alert-detached': return `${i.kind} ${i.title} by ${i.by.map((u) => u.name)}`;
        default: return `${i.kind}`;
      }
    });
    expect(lines.sort()).toEqual([
      'alert-attached BGP session down by kim',
      'alert-detached Old flap on ny-sw02 by kim',
      'alert-fired Discards on ny-sw01',
      'conclusion ping gw: "" → "gw answers" by kim',
      'entry-added iperf to ams line rate by kim',
      'evidence ping gw +1 link',
      'incident status: investigating → monitoring',
      'verdict uplink saturated: open → ruled-out',
    ]);

    // Anyone can ask "since <time>"; marking as seen empties "since you left".
    const since = (await (await server.api('GET', `/api/incidents/${incident.id}/digest?since=${encodeURIComponent(digest.since.at)}`, { token: kim.token })).json()) as Digest;
    expect(since.sinceLastSeen).toBe(false);
    expect(since.items.map((i) => i.kind).sort()).toEqual(digest.items.map((i) => i.kind).sort());
    expect((await server.api('POST', `/api/incidents/${incident.id}/seen`, { token: lee.token, body: {} })).status).toBe(200);
    const after = (await (await server.api('GET', `/api/incidents/${incident.id}/digest`, { token: lee.token })).json()) as Digest;
    expect(after.items).toEqual([]);
    const bad = await server.api('GET', `/api/incidents/${incident.id}/digest?since=last-tuesday`, { token: lee.token });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ field: 'since' });
    k.destroy();
  });
});
