/** Incidents over HTTP: create, list, change, restrict to members, and read the history and past states. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { io } from 'socket.io-client';
import { createEntry, listEntries, readMeta } from '../../shared/schema/doc.js';
import { ServerEvent } from '../../shared/events.js';
import type { HistoryRecord, Incident } from '../../shared/api.js';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js';
import { connect, synced } from '../helpers/collab-client.js';

let server: TestServer;
let responder: { id: string; token: string };
let viewer: { id: string; token: string };
beforeAll(async () => {
  server = await startTestServer();
  responder = await server.createUser('responder', 'kim');
  viewer = await server.createUser('viewer', 'lee');
});
afterAll(async () => {
  await server.close();
});

describe('incidents', () => {
  it('creates an incident with defaults, lists it, and refuses viewers', async () => {
    const res = await server.api('POST', '/api/incidents', { token: responder.token, body: { title: 'DNS failures in ams', severity: 'sev2' } });
    expect(res.status).toBe(201);
    const created = (await res.json()) as Incident;
    expect(created).toMatchObject({ title: 'DNS failures in ams', severity: 'sev2', status: 'investigating', createdBy: responder.id });
    expect(created.createdAt).toMatch(/Z$/);
    const list = (await (await server.api('GET', '/api/incidents', { token: viewer.token })).json()) as Incident[];
    expect(list.map((i) => i.id)).toContain(created.id);
    expect((await server.api('POST', '/api/incidents', { token: viewer.token, body: { title: 'nope' } })).status).toBe(403);
  });

  it('answers 400 naming the field for bad input', async () => {
    const noTitle = await server.api('POST', '/api/incidents', { token: responder.token, body: { severity: 'sev1' } });
    expect(noTitle.status).toBe(400);
    expect(await noTitle.json()).toMatchObject({ field: 'title' });
    const badSeverity = await server.api('POST', '/api/incidents', { token: responder.token, body: { title: 'x', severity: 'catastrophic' } });
    expect(await badSeverity.json()).toMatchObject({ field: 'severity' });
    const notObject = await server.api('POST', '/api/incidents', { token: responder.token, body: '[1,2]' });
    expect(notObject.status).toBe(400);
  });

  it('changes status through the document, so the change is attributed in the history and announced live', async () => {
    const incident = await server.createIncident(responder.token);
    const socket = io(server.url, { auth: { token: viewer.token }, transports: ['websocket'] });
    const updates: Incident[] = [];
    socket.on(ServerEvent.incidentUpdated, (i: Incident) => updates.push(i));
    await vi.waitFor(() => expect(socket.connected).toBe(true));

    const res = await server.api('PATCH', `/api/incidents/${incident.id}`, { token: responder.token, body: { status: 'resolved' } });
    expect(res.status).toBe(200);
    const resolved = (await res.json()) as Incident;
    expect(resolved.status).toBe('resolved');
    expect(resolved.resolvedAt).toMatch(/Z$/);
    await vi.waitFor(() => expect(updates.some((u) => u.id === incident.id && u.status === 'resolved')).toBe(true));
    socket.close();

    const c = connect(server.wsUrl, incident.id, responder.token);
    await synced(c);
    expect(readMeta(c.doc)).toMatchObject({ status: 'resolved', resolvedAt: resolved.resolvedAt });
    c.destroy();
    const history = (await (await server.api('GET', `/api/incidents/${incident.id}/history`, { token: viewer.token })).json()) as HistoryRecord[];
    expect(history).toHaveLength(2);
    expect(history.map((h) => h.userName)).toEqual(['kim', 'kim']);
  });

  it('mirrors a status set in the document (as the web app does) into the incident list', async () => {
    const incident = await server.createIncident(responder.token);
    const c = connect(server.wsUrl, incident.id, responder.token);
    await synced(c);
    c.doc.getMap('meta').set('status', 'monitoring');
    await c.saved();
    await vi.waitFor(async () => {
      const got = (await (await server.api('GET', `/api/incidents/${incident.id}`, { token: viewer.token })).json()) as Incident;
      expect(got.status).toBe('monitoring');
    });
    c.doc.getMap('meta').set('status', 'on fire'); // not a status: kept in the doc, not mirrored
    await c.saved();
    const got = (await (await server.api('GET', `/api/incidents/${incident.id}`, { token: viewer.token })).json()) as Incident;
    expect(got.status).toBe('monitoring');
    c.destroy();
  });

  it('hides a restricted incident from non-members on every path: 404 like one that never existed', async () => {
    const member = await server.createUser('responder', 'sec-member');
    const res = await server.api('POST', '/api/incidents', { token: responder.token, body: { title: 'Credential stuffing', members: [member.id] } });
    const secret = (await res.json()) as Incident;
    expect(secret.members?.sort()).toEqual([responder.id, member.id].sort());

    for (const token of [viewer.token, ADMIN_TOKEN]) {
      const list = (await (await server.api('GET', '/api/incidents', { token })).json()) as Incident[];
      expect(list.map((i) => i.id)).not.toContain(secret.id);
      for (const path of ['', '/history', '/state']) {
        const r = await server.api('GET', `/api/incidents/${secret.id}${path}`, { token });
        expect(r.status).toBe(404);
        expect(await r.json()).toEqual({ error: 'no such incident' });
      }
      expect((await server.api('PATCH', `/api/incidents/${secret.id}`, { token, body: { status: 'resolved' } })).status).toBe(404);
    }
    expect((await server.api('GET', `/api/incidents/${secret.id}`, { token: member.token })).status).toBe(200);
    const unknownMember = await server.api('POST', '/api/incidents', { token: responder.token, body: { title: 'x', members: ['ghost'] } });
    expect(await unknownMember.json()).toMatchObject({ field: 'members' });
  });
});

describe('history and state at a moment', () => {
  it('state?at=T equals a document built from exactly the history records up to T', async () => {
    const incident = await server.createIncident(responder.token);
    const c = connect(server.wsUrl, incident.id, responder.token);
    await synced(c);
    const snapshots: Array<{ titles: string[] }> = [];
    for (let i = 0; i < 6; i++) {
      createEntry(c.doc, { kind: 'test', title: `capture ${i}`, ranAt: `2026-03-04T06:0${i}:00.000Z` });
      await c.saved();
      snapshots.push({ titles: listEntries(c.doc).map((e) => e.title) });
      await new Promise((r) => setTimeout(r, 3)); // distinct receive times
    }
    const history = (await (await server.api('GET', `/api/incidents/${incident.id}/history`, { token: viewer.token })).json()) as HistoryRecord[];
    expect(history).toHaveLength(7); // creation + 6 entries

    for (let k = 1; k < history.length; k++) {
      const at = history[k]!.at;
      const res = await server.api('GET', `/api/incidents/${incident.id}/state?at=${encodeURIComponent(at)}`, { token: viewer.token });
      expect(res.headers.get('content-type')).toBe('application/octet-stream');
      const doc = new Y.Doc();
      Y.applyUpdate(doc, new Uint8Array(await res.arrayBuffer()));
      expect(listEntries(doc).map((e) => e.title)).toEqual(snapshots[k - 1]!.titles);
    }
    // Before the incident existed: an empty document. Malformed: 400 naming `at`.
    const before = await server.api('GET', `/api/incidents/${incident.id}/state?at=2000-01-01T00:00:00Z`, { token: viewer.token });
    const empty = new Y.Doc();
    Y.applyUpdate(empty, new Uint8Array(await before.arrayBuffer()));
    expect(listEntries(empty)).toEqual([]);
    expect(empty.getMap('meta').size).toBe(0);
    const bad = await server.api('GET', `/api/incidents/${incident.id}/state?at=yesterday`, { token: viewer.token });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ field: 'at' });

    const page = (await (await server.api('GET', `/api/incidents/${incident.id}/history?after=2&limit=3`, { token: viewer.token })).json()) as HistoryRecord[];
    expect(page.map((h) => h.seq)).toEqual([3, 4, 5]);
    c.destroy();
  });
});
