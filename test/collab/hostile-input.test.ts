/**
 * Bad input on the collaboration socket: each is refused with a named close code (or before the
 * upgrade), the document is untouched, and an honest client on the same incident keeps working.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { createEntry, listEntries } from '../../shared/schema/doc.js';
import { CloseCode } from '../../shared/protocol.js';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js';
import { connect, synced, type CollabClient } from '../helpers/collab-client.js';

let server: TestServer;
let honest: CollabClient;
let incidentId: string;
let token: string;

beforeAll(async () => {
  server = await startTestServer({ config: { maxMessageBytes: 64 * 1024 } });
  token = (await server.createUser('responder', 'honest')).token;
  incidentId = (await server.createIncident(token)).id;
  honest = connect(server.wsUrl, incidentId, token);
  await synced(honest);
  createEntry(honest.doc, { kind: 'test', title: 'baseline ping', ranAt: '2026-03-04T06:00:00.000Z' });
  await honest.saved();
});
afterAll(async () => {
  honest.destroy();
  await server.close();
});

/** Opens a raw socket, sends `frames`, and resolves with how the server closed it. */
function rawSession(frames: Array<Uint8Array | string>, opts: { path?: string; headers?: Record<string, string> } = {}) {
  return new Promise<{ code: number; reason: string } | { status: number }>((resolve) => {
    const ws = new WebSocket(`${server.wsUrl}${opts.path ?? `/collab/${incidentId}?token=${token}`}`, { headers: opts.headers });
    ws.on('open', () => frames.forEach((f) => ws.send(f)));
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    ws.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.on('error', () => undefined);
  });
}

const frame = (write: (e: encoding.Encoder) => void) => {
  const e = encoding.createEncoder();
  write(e);
  return encoding.toUint8Array(e);
};
const awarenessFrame = (state: string) => {
  const update = frame((a) => (encoding.writeVarUint(a, 1), encoding.writeVarUint(a, 7), encoding.writeVarUint(a, 1), encoding.writeVarString(a, state)));
  return frame((e) => (encoding.writeVarUint(e, 1), encoding.writeVarUint8Array(e, update)));
};
const syncUpdate = (update: Uint8Array) => frame((e) => (encoding.writeVarUint(e, 0), encoding.writeVarUint(e, 2), encoding.writeVarUint8Array(e, update)));

async function expectHonestClientStillWorks(): Promise<void> {
  const title = `still working ${Math.random()}`;
  createEntry(honest.doc, { kind: 'note', title, ranAt: new Date().toISOString() });
  await honest.saved();
  const check = connect(server.wsUrl, incidentId, token);
  await synced(check);
  expect(listEntries(check.doc).map((e) => e.title)).toContain(title);
  expect(Y.encodeStateVector(check.doc)).toEqual(Y.encodeStateVector(honest.doc));
  check.destroy();
}

describe('malformed and hostile frames', () => {
  const cases: Array<[string, Array<Uint8Array | string>, number]> = [
    ['a zero-length frame', [new Uint8Array(0)], CloseCode.malformed],
    ['random garbage', [Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])], CloseCode.malformed],
    ['an unknown message type', [frame((e) => encoding.writeVarUint(e, 77))], CloseCode.malformed],
    ['a sync message cut after its type', [Uint8Array.from([0])], CloseCode.malformed],
    ['an update whose length field overruns the frame', [Uint8Array.from([0, 2, 0xe8, 0x07, 1, 2, 3])], CloseCode.malformed],
    ['a zero-length update', [syncUpdate(new Uint8Array(0))], CloseCode.malformed],
    ['an update of garbage bytes', [syncUpdate(Uint8Array.from([9, 200, 13, 77, 1, 2]))], CloseCode.malformed],
    ['an update with trailing bytes after it', [Uint8Array.from([...syncUpdate(Uint8Array.from([0, 0])), 1, 2, 3])], CloseCode.malformed],
    ['a truncated real update', [syncUpdate(realUpdate().subarray(0, 12))], CloseCode.malformed],
    ['awareness that is not JSON', [awarenessFrame('{not json')], CloseCode.malformed],
    ['a text frame', ['hello'], CloseCode.malformed],
    ['a message over the size cap', [syncUpdate(new Uint8Array(100 * 1024))], CloseCode.tooLarge],
  ];

  it.each(cases)('closes on %s and changes nothing', async (_name, frames, code) => {
    const before = Y.encodeStateAsUpdate(honest.doc);
    const result = await rawSession(frames);
    expect(result).toMatchObject({ code });
    expect((result as { reason: string }).reason.length).toBeGreaterThan(0);
    await expectHonestClientStillWorks();
    // Nothing but the honest client's own note was added.
    const entriesBefore = new Y.Doc();
    Y.applyUpdate(entriesBefore, before);
    expect(listEntries(honest.doc).length).toBe(listEntries(entriesBefore).length + 1);
  });

  it('counts refused messages by reason in /metrics', async () => {
    const text = await (await server.api('GET', '/metrics', { token: ADMIN_TOKEN })).text();
    expect(text).toMatch(/bridgelog_rejected_messages_total\{reason="empty message"\} [1-9]/);
    expect(text).toMatch(/bridgelog_rejected_messages_total\{reason="message over N bytes"\} [1-9]/);
  });
});

function realUpdate(): Uint8Array {
  const doc = new Y.Doc();
  createEntry(doc, { kind: 'test', title: 'a real entry with some text in it', ranAt: '2026-03-04T06:00:00.000Z', observations: 'x'.repeat(100) });
  return Y.encodeStateAsUpdate(doc);
}

describe('refused before or at the upgrade', () => {
  it('refuses a socket without a token (401) and with a wrong one (401)', async () => {
    expect(await rawSession([], { path: `/collab/${incidentId}` })).toEqual({ status: 401 });
    expect(await rawSession([], { path: `/collab/${incidentId}?token=bl_wrong` })).toEqual({ status: 401 });
  });

  it('closes a browser’s socket without a valid session with 4401, so the page can ask to log in again', async () => {
    const result = await rawSession([], { path: `/collab/${incidentId}`, headers: { origin: server.url, cookie: 'bridgelog_session=bls_expired' } });
    expect(result).toMatchObject({ code: CloseCode.unauthenticated });
    expect(server.rooms.loaded('x')).toBeUndefined();
  });

  it('refuses app events (socket.io) from a foreign origin too', async () => {
    const { io } = await import('socket.io-client');
    const socket = io(server.url, { auth: { token }, transports: ['websocket'], extraHeaders: { origin: 'https://evil.example' }, reconnection: false });
    const error = await new Promise<Error>((resolve) => socket.on('connect_error', resolve));
    expect(socket.connected).toBe(false);
    expect(error).toBeInstanceOf(Error);
    socket.close();
  });

  it('refuses a browser page from a foreign origin (403), and accepts the server’s own', async () => {
    expect(await rawSession([], { headers: { origin: 'https://evil.example' } })).toEqual({ status: 403 });
    const own = new WebSocket(`${server.wsUrl}/collab/${incidentId}?token=${token}`, { headers: { origin: server.url } });
    await new Promise<void>((resolve, reject) => (own.on('open', () => resolve()), own.on('unexpected-response', () => reject(new Error('refused')))));
    own.close();
  });

  it('closes with 4404 for an unknown incident, without creating anything on disk', async () => {
    expect(await rawSession([], { path: `/collab/nosuchincident?token=${token}` })).toMatchObject({ code: CloseCode.notFound });
    expect(server.rooms.loaded('nosuchincident')).toBeUndefined();
    await expectHonestClientStillWorks();
  });

  it('closes with 4404 for a restricted incident the user is not a member of', async () => {
    const secret = await server.createIncident(token, { title: 'Credential leak', members: [] });
    const outsider = await server.createUser('responder', 'outsider');
    expect(await rawSession([], { path: `/collab/${secret.id}?token=${outsider.token}` })).toMatchObject({ code: CloseCode.notFound });
  });

  it('keeps the stock provider from reconnecting after a 44xx refusal', async () => {
    const c = connect(server.wsUrl, 'nosuchincident', token);
    await vi.waitFor(() => expect(c.closes.map((x) => x.code)).toEqual([CloseCode.notFound]));
    expect(c.provider.shouldConnect).toBe(false);
    c.destroy();
  });
});
