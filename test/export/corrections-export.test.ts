/**
 * Corrections (#16) on the server: a deleted entry or hypothesis is a tombstone. Who deleted it comes
 * from the attributed history (a client naming someone else as the deleter is refused); the current
 * export and search leave it out while an "as of" export from before still has it; and the exports'
 * timeline lists status and severity changes, verdicts and attached files on one UTC axis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { CloseCode } from '../../shared/protocol.js';
import type { IncidentAuthors } from '../../shared/model.js';
import { createEntry, createHypothesis, deleteEntry, deleteHypothesis, entriesOf, hypothesesOf, listEntries, renameHypothesis, restoreEntry, setHypothesisStatus, setMeta, setVerdict } from '../../shared/schema/doc.js';
import { exportJsonSchema } from '../../shared/schema/export.js';
import type { Report } from '../../server/export/report.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connect, synced, type CollabClient } from '../helpers/collab-client.js';

const exhaustive = new Ajv2020({ strict: true, allErrors: true, validateFormats: false }).compile({ ...exportJsonSchema({ exhaustive: true }), $id: 'exhaustive' });

let server: TestServer;
let dana: { id: string; token: string };
let bob: { id: string; token: string };
let incidentId: string;
let danaClient: CollabClient;
let bobClient: CollabClient;
let keptId: string;
let goneId: string;
let wrongId: string;
let beforeDeletion: string;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const exportJson = async (at?: string) =>
  (await (await server.api('GET', `/api/incidents/${incidentId}/export?format=json${at ? `&at=${encodeURIComponent(at)}` : ''}`, { token: dana.token })).json()) as Report;
const exportMd = async () => (await server.api('GET', `/api/incidents/${incidentId}/export?format=md`, { token: dana.token })).text();

const syncUpdate = (update: Uint8Array) => {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, 0);
  encoding.writeVarUint(e, 2);
  encoding.writeVarUint8Array(e, update);
  return encoding.toUint8Array(e);
};

/** Sends what `write` does to a copy of the document, on a raw socket as bob; resolves with how the server closed it. */
function sendForged(write: (doc: Y.Doc) => void): Promise<{ code: number; reason: string }> {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(danaClient.doc));
  const before = Y.encodeStateVector(doc);
  write(doc);
  const update = Y.encodeStateAsUpdate(doc, before);
  return new Promise((resolve) => {
    const ws = new WebSocket(`${server.wsUrl}/collab/${incidentId}?token=${bob.token}`);
    const accepted = setTimeout(() => (resolve({ code: 0, reason: 'accepted' }), ws.close()), 5000);
    ws.on('open', () => ws.send(syncUpdate(update)));
    ws.on('close', (code, reason) => (clearTimeout(accepted), resolve({ code, reason: reason.toString() })));
    ws.on('error', () => undefined);
  });
}

beforeAll(async () => {
  server = await startTestServer();
  dana = await server.createUser('responder', 'dana');
  bob = await server.createUser('responder', 'bob');
  incidentId = (await server.createIncident(dana.token, { title: 'Packet loss ny-sw01', severity: 'sev3' })).id;
  danaClient = connect(server.wsUrl, incidentId, dana.token);
  bobClient = connect(server.wsUrl, incidentId, bob.token);
  await Promise.all([synced(danaClient), synced(bobClient)]);
  const ranAt = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
  keptId = createEntry(danaClient.doc, { kind: 'test', title: 'ping core1', ranAt: ranAt(30), conclusion: 'core1 answers' });
  goneId = createEntry(danaClient.doc, { kind: 'test', title: 'zebrafish probe on the wrong switch', ranAt: ranAt(20), observations: 'zebrafish' });
  const h = createHypothesis(danaClient.doc, 'duplex mismach');
  const wrong = createHypothesis(danaClient.doc, 'cosmic rays');
  wrongId = wrong;
  setVerdict(danaClient.doc, keptId, h, 'supports');
  setVerdict(danaClient.doc, keptId, wrong, 'refutes');
  await danaClient.saved();
  await pause(30);
  beforeDeletion = new Date().toISOString();
  await pause(30);
  // Bob corrects: deletes the entry and a hypothesis, renames one, confirms it, raises severity.
  for (let i = 0; i < 1000 && !(entriesOf(bobClient.doc).has(goneId) && hypothesesOf(bobClient.doc).has(wrong)); i++) await pause(20);
  deleteEntry(bobClient.doc, goneId);
  deleteHypothesis(bobClient.doc, wrong);
  renameHypothesis(bobClient.doc, h, 'duplex mismatch');
  setHypothesisStatus(bobClient.doc, h, 'confirmed');
  setMeta(bobClient.doc, { severity: 'sev1' });
  setMeta(bobClient.doc, { status: 'monitoring' });
  await bobClient.saved();
});
afterAll(async () => {
  danaClient.destroy();
  bobClient.destroy();
  await server.close();
});

describe('deleting is a tombstone, credited from the history', () => {
  it('refuses a client that writes who deleted it, or a tombstone that is not true', async () => {
    const forgedBy = await sendForged((doc) => {
      entriesOf(doc).get(keptId)!.set('deleted', true);
      entriesOf(doc).get(keptId)!.set('deletedBy', dana.id);
    });
    expect(forgedBy).toEqual({ code: CloseCode.malformed, reason: expect.stringContaining('who deleted it and when are read from the server history') });
    const forgedAt = await sendForged((doc) => hypothesesOf(doc).get(wrongId)!.set('deletedAt', '2020-01-01T00:00:00.000Z'));
    expect(forgedAt.code).toBe(CloseCode.malformed);
    const notTrue = await sendForged((doc) => entriesOf(doc).get(keptId)!.set('deleted', 'yes'));
    expect(notTrue).toEqual({ code: CloseCode.malformed, reason: 'entry deleted must be true (restoring removes it)' });
    // None of it landed: the entry is still there for everyone.
    expect(listEntries(danaClient.doc).map((e) => e.id)).toContain(keptId);
  });

  it('names bob as the deleter in the authors API, from the history', async () => {
    const authors = (await (await server.api('GET', `/api/incidents/${incidentId}/authors`, { token: dana.token })).json()) as IncidentAuthors;
    expect(authors.entries[goneId]).toMatchObject({ createdBy: { id: dana.id, name: 'dana' }, deletedBy: { id: bob.id, name: 'bob' } });
    expect(Date.parse(authors.entries[goneId]!.deletedAt!)).toBeGreaterThan(Date.parse(beforeDeletion));
    expect(authors.entries[keptId]!.deletedBy).toBeUndefined();
  });
});

describe('exports and search after a deletion', () => {
  it('the current export leaves deleted items out; an export as of before the deletion has them', async () => {
    const now = await exportJson();
    exhaustive(now);
    expect(exhaustive.errors ?? []).toEqual([]);
    expect(now.entries.map((e) => e.title)).toEqual(['ping core1']);
    expect(now.summary.hypotheses.map((h) => [h.statement, h.status])).toEqual([['duplex mismatch', 'confirmed']]);
    // The kept entry's verdict on the deleted hypothesis goes with it.
    expect(Object.values(now.entries[0]!.hypotheses)).toEqual(['supports']);
    expect(await exportMd()).not.toContain('zebrafish');

    const then = await exportJson(beforeDeletion);
    expect(then.entries.map((e) => e.title)).toEqual(['ping core1', 'zebrafish probe on the wrong switch']);
    expect(then.summary.hypotheses.map((h) => h.statement).sort()).toEqual(['cosmic rays', 'duplex mismach']);
  });

  it('search no longer finds a deleted entry, and finds it again once restored', async () => {
    const hits = async () => {
      const res = await server.api('GET', `/api/search?q=zebrafish`, { token: dana.token });
      return ((await res.json()) as { results: Array<{ entryId?: string }> }).results.filter((r) => r.entryId === goneId).length;
    };
    await expect.poll(hits, { timeout: 15_000, interval: 100 }).toBe(0);
    restoreEntry(danaClient.doc, goneId);
    await danaClient.saved();
    await expect.poll(hits, { timeout: 15_000, interval: 100 }).toBeGreaterThan(0);
    deleteEntry(danaClient.doc, goneId);
    await danaClient.saved();
    await expect.poll(hits, { timeout: 15_000, interval: 100 }).toBe(0);
  });
});

describe('the exports’ timeline', () => {
  it('lists status and severity changes, verdicts and attached files, by who did them, on one UTC axis', async () => {
    const form = new FormData();
    form.append('file', new Blob([new TextEncoder().encode('interface counters\n')]), 'counters.txt');
    const res = await fetch(`${server.url}/api/incidents/${incidentId}/attachments`, { method: 'POST', headers: { authorization: `Bearer ${bob.token}` }, body: form });
    const file = (await res.json()) as { id: string };
    (entriesOf(bobClient.doc).get(keptId)!.get('attachments') as Y.Array<string>).push([file.id]);
    await bobClient.saved();

    const r = await exportJson();
    exhaustive(r);
    expect(exhaustive.errors ?? []).toEqual([]);
    const rows = r.timeline.filter((t) => t.event && t.event !== 'milestone').map((t) => [t.event, t.who, t.what]);
    expect(rows).toEqual(
      expect.arrayContaining([
        ['severity', 'bob', 'Severity: sev1'],
        ['status', 'bob', 'Status: monitoring'],
        ['verdict', 'dana', 'Hypothesis “duplex mismatch”: open'],
        ['verdict', 'bob', 'Hypothesis “duplex mismatch”: confirmed'],
        ['attachment', 'bob', 'File attached: counters.txt (to “ping core1”)'],
      ]),
    );
    // The deleted hypothesis is out of the timeline too, verdicts and all.
    expect(r.timeline.map((t) => t.what).join('\n')).not.toContain('cosmic rays');
    // One axis: sorted, every time UTC.
    const times = r.timeline.map((t) => t.at);
    expect([...times].sort()).toEqual(times);
    for (const t of times) expect(t).toMatch(/Z$/);
    const md = await exportMd();
    expect(md).toContain('Severity: sev1');
    expect(md).toContain('File attached: counters.txt');
  });
});
