/**
 * Updates that break the document schema (v1) are refused with 4400 before they reach the document:
 * nesting, a type where the schema says text, map or array, values outside the enums, server-only
 * meta. The document and its log stay as they were, an honest client keeps saving, and everything the
 * web app and the CLI really write still goes through.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { CloseCode } from '../../shared/protocol.js';
import {
  createEntry,
  createHypothesis,
  entriesOf,
  entryText,
  getEntry,
  hypothesesOf,
  listEntries,
  listHypotheses,
  metaOf,
  setHypothesisStatus,
  setVerdict,
  updateEntry,
} from '../../shared/schema/doc.js';
import { entryInput } from '../../cli/entry-report.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connect, synced, type CollabClient } from '../helpers/collab-client.js';

let server: TestServer;
let honest: CollabClient;
let incidentId: string;
let honestToken: string;
let malloryToken: string;
let entryId: string;
let hypothesisId: string;

beforeAll(async () => {
  server = await startTestServer();
  honestToken = (await server.createUser('responder', 'hana')).token;
  malloryToken = (await server.createUser('responder', 'mallory')).token;
  incidentId = (await server.createIncident(honestToken)).id;
  honest = connect(server.wsUrl, incidentId, honestToken);
  await synced(honest);
  entryId = createEntry(honest.doc, { kind: 'test', title: 'ping db01', ranAt: '2026-03-04T06:00:00.000Z', command: 'ping -c 3 db01' });
  hypothesisId = createHypothesis(honest.doc, 'duplex mismatch');
  await honest.saved();
});
afterAll(async () => {
  honest.destroy();
  await server.close();
});

const syncUpdate = (update: Uint8Array) => {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, 0);
  encoding.writeVarUint(e, 2);
  encoding.writeVarUint8Array(e, update);
  return encoding.toUint8Array(e);
};

/** Sends `update` on a raw socket as Mallory and resolves with how the server closed it (code 0: it did not). */
function sendRaw(update: Uint8Array): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${server.wsUrl}/collab/${incidentId}?token=${malloryToken}`);
    const accepted = setTimeout(() => (resolve({ code: 0, reason: 'accepted' }), ws.close()), 5000);
    ws.on('open', () => ws.send(syncUpdate(update)));
    ws.on('close', (code, reason) => (clearTimeout(accepted), resolve({ code, reason: reason.toString() })));
    ws.on('error', () => undefined);
  });
}

/** What `write` does to a copy of the incident's document, as an update (under a client ID of its own). */
function forged(write: (doc: Y.Doc) => void): Uint8Array {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(honest.doc));
  const before = Y.encodeStateVector(doc);
  write(doc);
  return Y.encodeStateAsUpdate(doc, before);
}

const entry = (doc: Y.Doc) => entriesOf(doc).get(entryId)!;
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

describe('updates that break the document schema', () => {
  const cases: Array<[string, (doc: Y.Doc) => void]> = [
    ['40,000 nested maps inside an entry', (doc) => doc.transact(() => {
      let map = entry(doc);
      for (let i = 0; i < 40_000; i++) map = map.set('x', new Y.Map<unknown>());
    })],
    ['a map nested in an entry’s verdicts', (doc) => (entry(doc).get('hypotheses') as Y.Map<unknown>).set(hypothesisId, new Y.Map())],
    ['a map nested in a hypothesis', (doc) => hypothesesOf(doc).get(hypothesisId)!.set('notes', new Y.Map())],
    ['a map where the schema says text (command)', (doc) => entry(doc).set('command', new Y.Map())],
    ['an array where the schema says map (hypotheses)', (doc) => entry(doc).set('hypotheses', new Y.Array())],
    ['a text where the schema says array (links)', (doc) => entry(doc).set('links', new Y.Text('x'))],
    ['a plain string where the schema says text', (doc) => entry(doc).set('observations', 'plain')],
    ['an entry that is a Y.Array', (doc) => entriesOf(doc).set('arr', new Y.Array() as never)],
    ['an entry that is a plain value', (doc) => (entriesOf(doc) as Y.Map<unknown>).set('str', 'hello')],
    ['a map inside a Y.Text', (doc) => entryText(doc, entryId, 'observations')!.insertEmbed(0, new Y.Map() as never)],
    ['a map inside an array of ids', (doc) => (entry(doc).get('attachments') as Y.Array<unknown>).push([new Y.Map()])],
    ['a number in an array of ids', (doc) => (entry(doc).get('alerts') as Y.Array<unknown>).push([42])],
    ['an unknown root type', (doc) => doc.getArray('evil').push(['x'])],
    ['an unknown root map', (doc) => doc.getMap('settings').set('x', 1)],
    ['members written by a client', (doc) => metaOf(doc).set('members', ['mallory'])],
    ['a ranAt that is not a date', (doc) => entry(doc).set('ranAt', 'yesterday')],
    ['a ranAt that is a number', (doc) => entry(doc).set('ranAt', 1_772_607_600_000)],
    ['a ranAt not in UTC', (doc) => entry(doc).set('ranAt', '2026-03-04T07:00:00+01:00')],
    ['a ranAt two days ahead', (doc) => entry(doc).set('ranAt', inDays(2))],
    ['a kind outside the enum', (doc) => entry(doc).set('kind', 'rant')],
    ['a hypothesis status outside the enum', (doc) => hypothesesOf(doc).get(hypothesisId)!.set('status', 'maybe')],
    ['a verdict outside the enum', (doc) => (entry(doc).get('hypotheses') as Y.Map<unknown>).set(hypothesisId, 'maybe')],
    ['a title over the limit', (doc) => entry(doc).set('title', 'x'.repeat(301))],
    ['a new entry with a title over the limit', (doc) => createEntry(doc, { kind: 'note', title: 'y'.repeat(301), ranAt: '2026-03-04T06:00:00.000Z' })],
  ];

  it.each(cases)('closes on %s with 4400, and changes nothing', async (_name, write) => {
    const room = server.rooms.loaded(incidentId)!;
    const before = Y.encodeStateAsUpdate(room.doc);
    const seq = room.lastSeq;
    const result = await sendRaw(forged(write));
    expect(result.code).toBe(CloseCode.malformed);
    expect(result.reason.length).toBeGreaterThan(0);
    expect(Y.encodeStateAsUpdate(room.doc)).toEqual(before);
    expect(room.lastSeq).toBe(seq);

    const title = `still saving ${Math.random()}`;
    createEntry(honest.doc, { kind: 'note', title, ranAt: new Date().toISOString() });
    await honest.saved();
    expect(honest.closes).toEqual([]);
    const check = connect(server.wsUrl, incidentId, honestToken);
    await synced(check);
    expect(listEntries(check.doc).map((e) => e.title)).toContain(title);
    expect(getEntry(check.doc, entryId)).toMatchObject({ kind: 'test', title: 'ping db01', ranAt: '2026-03-04T06:00:00.000Z', command: 'ping -c 3 db01' });
    check.destroy();
  });
});

describe('what honest clients write', () => {
  it('takes every write of the web app and the CLI, undo of a deletion included', async () => {
    const incident = (await server.createIncident(honestToken)).id;
    const web = connect(server.wsUrl, incident, honestToken);
    await synced(web);
    const doc = web.doc;
    // The web app's composer and editor, evidence, hypotheses and verdicts.
    const id = createEntry(doc, {
      kind: 'test', title: 't'.repeat(300), ranAt: new Date().toISOString(), command: 'iperf3 -c db01', observations: '940 Mbit/s', conclusion: 'fine',
    });
    updateEntry(doc, id, { kind: 'action', title: 'iperf3 to db01', ranAt: inDays(0.9) });
    entryText(doc, id, 'observations')!.insert(0, 'Retransmits: 12\n');
    entryText(doc, id, 'command')!.delete(0, 6);
    entryText(doc, id, 'conclusion')!.format(0, 2, { bold: true });
    // Evidence, as client/src/collab/entry-evidence.ts writes it (that file is built for the browser).
    const list = (field: string) => entriesOf(doc).get(id)!.get(field) as Y.Array<unknown>;
    list('alerts').push(['alert-1']);
    list('alerts').push(['alert-2']);
    list('alerts').delete(0, 1);
    list('attachments').push(['att-1']);
    list('links').push([{ url: 'https://grafana.example/d/1', label: 'uplink graph' }]);
    list('links').push([{ url: 'https://wiki.example/runbook', label: 'runbook' }]);
    list('links').delete(1, 1);
    const h = createHypothesis(doc, 'duplex mismatch on ny-sw01');
    setVerdict(doc, id, h, 'supports');
    setVerdict(doc, id, h, 'refutes');
    setVerdict(doc, id, h, null);
    setVerdict(doc, id, h, 'supports');
    for (const status of ['supported', 'ruled-out', 'confirmed', 'open'] as const) setHypothesisStatus(doc, h, status);
    metaOf(doc).set('status', 'monitoring'); // mirrored into the incident list
    // A newer client's plain field is kept for forward compatibility.
    entriesOf(doc).get(id)!.set('durationMs', 30_000);
    // The CLI: an entry under the id it chose, with its run report, files and a verdict.
    const cliId = 'clientchosen1';
    doc.transact(() => {
      createEntry(doc, entryInput({
        version: 1, entryId: cliId, server: server.url, incidentId: incident, kind: 'test', title: 'ping -c 3 db01 '.repeat(30),
        command: 'ping -c 3 db01', text: 'looks fine', localRanAt: Date.now(), files: [],
        run: { host: 'laptop', durationMs: 2100, exitCode: 0, stdoutBytes: 120, stderrBytes: 0, lastLines: ['3 packets transmitted, 3 received'], totalLines: 8 },
        clockOffset: { offsetMs: 12, roundTripMs: 3 },
      }), cliId);
      (entriesOf(doc).get(cliId)!.get('attachments') as Y.Array<string>).push(['stdout-id', 'stderr-id']);
      setVerdict(doc, cliId, createHypothesis(doc, 'words that match no hypothesis yet'), 'refutes');
    });
    await web.saved();
    // Deleting an entry, and undoing that: the undo recreates it under the same id.
    const undo = new Y.UndoManager(entriesOf(doc));
    entriesOf(doc).delete(id);
    undo.undo();
    entriesOf(doc).delete(cliId);
    await web.saved();

    expect(web.closes).toEqual([]);
    const check = connect(server.wsUrl, incident, honestToken);
    await synced(check);
    expect(getEntry(check.doc, id)).toMatchObject({ kind: 'action', title: 'iperf3 to db01', alerts: ['alert-2'], attachments: ['att-1'], hypotheses: { [h]: 'supports' } });
    expect(getEntry(check.doc, id)!.observations).toBe('Retransmits: 12\n940 Mbit/s');
    expect(getEntry(check.doc, cliId)).toBeUndefined();
    expect(listHypotheses(check.doc).map((x) => x.statement).sort()).toEqual(['duplex mismatch on ny-sw01', 'words that match no hypothesis yet']);
    check.destroy();
    web.destroy();
  });
});
