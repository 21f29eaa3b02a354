/**
 * Client IDs and presence cannot be used against another user: an update under someone's client ID
 * is refused or dropped (never bound, logged or acknowledged), presence can be set only for one's
 * own IDs, and presence states are bounded in size and rate.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import type { HistoryRecord } from '../../shared/api.js';
import { createEntry, listEntries } from '../../shared/schema/doc.js';
import { CloseCode, MessageType } from '../../shared/protocol.js';
import { encodeAwareness, encodeAwarenessEntries, encodeUpdate, type AwarenessEntry } from '../../server/collab/protocol.js';
import { PresenceLimits } from '../../server/collab/presence.js';
import { connect, synced, type CollabClient } from '../helpers/collab-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let alice: { id: string; token: string };
let mallory: { id: string; token: string };
const cleanup: Array<() => void> = [];
beforeAll(async () => {
  server = await startTestServer();
  alice = await server.createUser('responder', 'alice');
  mallory = await server.createUser('responder', 'mallory');
});
afterAll(async () => {
  for (const stop of cleanup) stop();
  await server.close();
});

function open(incidentId: string, token: string, doc?: Y.Doc): CollabClient {
  const c = connect(server.wsUrl, incidentId, token, doc);
  cleanup.push(c.destroy);
  return c;
}

const syncUpdate = encodeUpdate;
const awareness = (entries: AwarenessEntry[]) => encodeAwareness(encodeAwarenessEntries(entries));

/** A raw socket as Mallory: what it sends, the durable state vectors it is told of, how it closes. */
async function rawSocket(incidentId: string, token: string) {
  const ws = new WebSocket(`${server.wsUrl}/collab/${incidentId}?token=${token}`);
  cleanup.push(() => ws.terminate());
  const durable: Array<Map<number, number>> = [];
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  ws.on('message', (data: Buffer) => {
    const dec = decoding.createDecoder(new Uint8Array(data));
    if (decoding.readVarUint(dec) === MessageType.persisted) durable.push(Y.decodeStateVector(decoding.readVarUint8Array(dec)));
  });
  await new Promise<void>((resolve) => ws.on('open', () => resolve()));
  return { ws, durable, closed };
}

/** An update under `clientId` that starts at clock `from` of that client's history (a gap if > 0). */
function updateUnder(clientId: number, from: number): Uint8Array {
  const doc = new Y.Doc();
  doc.clientID = clientId;
  doc.getMap('meta').set('title', 'x'.repeat(from)); // clocks 0…: what the gap skips
  const sv = Y.encodeStateVector(doc);
  createEntry(doc, { kind: 'note', title: 'written by mallory as alice', ranAt: '2026-12-01T00:00:00.000Z' });
  return Y.encodeStateAsUpdate(doc, sv);
}

const historyOf = async (incidentId: string) =>
  (await (await server.api('GET', `/api/incidents/${incidentId}/history`, { token: alice.token })).json()) as HistoryRecord[];

describe('client IDs belong to one user', () => {
  it('refuses (4403) an update under a client ID that another user’s presence announced', async () => {
    const incident = await server.createIncident(alice.token);
    const a = open(incident.id, alice.token);
    await synced(a);
    a.provider.awareness.setLocalStateField('user', { color: '#0af' }); // as the web app announces itself
    const m = await rawSocket(incident.id, mallory.token);
    await vi.waitFor(() => expect(server.rooms.loaded(incident.id)?.awareness.getStates().has(a.doc.clientID)).toBe(true));
    m.ws.send(syncUpdate(updateUnder(a.doc.clientID, 3)));
    expect(await m.closed).toBe(CloseCode.forbidden);

    createEntry(a.doc, { kind: 'test', title: 'ping db01', ranAt: new Date().toISOString() });
    await a.saved();
    expect(a.closes).toEqual([]);
    expect((await historyOf(incident.id)).map((r) => r.userName)).not.toContain('mallory');
  });

  it('never binds, logs or acknowledges an update with a clock gap; its owner saves as usual later', async () => {
    const incident = await server.createIncident(alice.token);
    const aliceDoc = new Y.Doc(); // not connected yet: the server has never heard of its client ID
    const m = await rawSocket(incident.id, mallory.token);
    m.ws.send(syncUpdate(updateUnder(aliceDoc.clientID, 5)));
    await vi.waitFor(() => expect(m.durable.length).toBeGreaterThan(0));
    expect(m.durable.at(-1)!.has(aliceDoc.clientID)).toBe(false);
    expect(m.ws.readyState).toBe(WebSocket.OPEN);

    const a = open(incident.id, alice.token, aliceDoc);
    await synced(a);
    for (let i = 0; i < 8; i++) createEntry(a.doc, { kind: 'note', title: `alice’s note ${i}`, ranAt: new Date().toISOString() });
    await a.saved();
    expect(a.closes).toEqual([]);
    const check = open(incident.id, alice.token);
    await synced(check);
    const titles = listEntries(check.doc).map((e) => e.title);
    expect(titles).toContain('alice’s note 7');
    expect(titles).not.toContain('written by mallory as alice');
    expect((await historyOf(incident.id)).filter((r) => r.userName === 'mallory')).toEqual([]);
  });
});

describe('presence', () => {
  it('ignores presence sent for another user’s client ID', async () => {
    const incident = await server.createIncident(alice.token);
    const a = open(incident.id, alice.token);
    const watcher = open(incident.id, alice.token);
    await Promise.all([synced(a), synced(watcher)]);
    a.provider.awareness.setLocalStateField('user', { color: '#0af' });
    await vi.waitFor(() => expect((watcher.provider.awareness.getStates().get(a.doc.clientID) as { user?: { name: string } })?.user?.name).toBe('alice'));
    const m = await rawSocket(incident.id, mallory.token);
    m.ws.send(awareness([{ clientId: a.doc.clientID, clock: 1000, state: { user: { name: 'alice' }, cursor: 'fake' } }]));
    m.ws.send(awareness([{ clientId: a.doc.clientID, clock: 1001, state: null }]));
    await new Promise((r) => setTimeout(r, 300));
    const seen = watcher.provider.awareness.getStates().get(a.doc.clientID) as { cursor?: unknown; user?: { id: string } } | undefined;
    expect(seen?.user?.id).toBe(alice.id);
    expect(seen?.cursor).toBeUndefined();
  });

  it('closes a connection whose presence state is too large (4413); nobody receives it', async () => {
    const incident = await server.createIncident(alice.token);
    const watcher = open(incident.id, alice.token);
    await synced(watcher);
    const m = await rawSocket(incident.id, mallory.token);
    m.ws.send(awareness([{ clientId: 4242, clock: 1, state: { blob: 'x'.repeat(PresenceLimits.maxStateBytes) } }]));
    expect(await m.closed).toBe(CloseCode.tooLarge);
    expect(watcher.provider.awareness.getStates().has(4242)).toBe(false);
  });

  it('paces a flood of presence updates: others get a bounded number, and the latest state', async () => {
    const incident = await server.createIncident(alice.token);
    const watcher = open(incident.id, alice.token);
    await synced(watcher);
    let seen = 0;
    watcher.provider.awareness.on('change', ({ added, updated }: { added: number[]; updated: number[] }) => {
      if ([...added, ...updated].includes(777)) seen++;
    });
    const m = await rawSocket(incident.id, mallory.token);
    const started = performance.now();
    for (let clock = 1; clock <= 500; clock++) m.ws.send(awareness([{ clientId: 777, clock, state: { n: clock } }]));
    await vi.waitFor(() => expect((watcher.provider.awareness.getStates().get(777) as { n?: number })?.n).toBe(500), { timeout: 5000 });
    const seconds = (performance.now() - started) / 1000;
    expect(seen).toBeLessThanOrEqual(PresenceLimits.burst + Math.ceil(seconds * PresenceLimits.perSecond) + 2);
    expect(m.ws.readyState).toBe(WebSocket.OPEN);
  });
});
