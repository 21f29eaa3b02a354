/**
 * Update → durable → delivered: one writer at a steady rate, N readers. Readers do not decode Yjs:
 * the server broadcasts in order, so the k-th sync-update frame a reader gets is the writer's k-th
 * update. Latency = reader arrival − writer send; durable = writer's type-100 ack − send.
 */
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import { createEntry, entryText } from '../shared/schema/doc.js';
import { ADMIN, api, openSocket, sleep, stats, syncStep1Empty, syncUpdateFrame, type ChildServer } from './lib.js';

export interface FanoutResult {
  readers: number;
  rate: number;
  seconds: number;
  sent: number;
  deliveryRatio: number;
  delivered: ReturnType<typeof stats>;
  durable: ReturnType<typeof stats>;
}

export async function fanout(server: ChildServer, readers: number, rate: number, seconds: number): Promise<FanoutResult> {
  const responder = await api(server.url, 'POST', '/api/users', ADMIN, { name: `fan${readers}-${Date.now()}`, role: 'responder' });
  const incident = await api(server.url, 'POST', '/api/incidents', responder.token, { title: `fan-out ${readers}` });
  const wsUrl = `${server.url.replace(/^http/, 'ws')}/collab/${incident.id}?token=`;

  const arrivals: number[][] = [];
  const sockets = [];
  for (let r = 0; r < readers; r++) {
    const ws = await openSocket(wsUrl + ADMIN);
    const mine: number[] = [];
    arrivals.push(mine);
    ws.on('message', (data: Buffer) => {
      if (data[0] === 0 && data[1] === 2) mine.push(performance.now());
    });
    ws.send(syncStep1Empty());
    sockets.push(ws);
  }

  // The writer: a real Yjs doc, typing into one entry's observations.
  const doc = new Y.Doc();
  const writer = await openSocket(wsUrl + responder.token);
  const acks: Array<{ clock: number; at: number }> = [];
  writer.on('message', (data: Buffer) => {
    if (data[0] !== 100) return;
    const dec = decoding.createDecoder(data);
    decoding.readVarUint(dec);
    const sv = Y.decodeStateVector(decoding.readVarUint8Array(dec));
    acks.push({ clock: sv.get(doc.clientID) ?? 0, at: performance.now() });
  });
  writer.send(syncStep1Empty());
  await sleep(500);
  const updates: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => updates.push(u));
  const id = createEntry(doc, { kind: 'test', title: 'fan-out', ranAt: new Date().toISOString() });
  const text = entryText(doc, id, 'observations')!;
  updates.length = 0;

  // First frame (the entry itself) is not timed; warm-up.
  writer.send(syncUpdateFrame(Y.encodeStateAsUpdate(doc)));
  await sleep(300);
  for (const a of arrivals) a.length = 0;
  acks.length = 0;

  const sent: Array<{ at: number; clock: number }> = [];
  const total = rate * seconds;
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    text.insert(text.length, `${i % 10}`);
    const update = updates.pop()!;
    sent.push({ at: performance.now(), clock: Y.getState(doc.store, doc.clientID) });
    writer.send(syncUpdateFrame(update));
  }
  await sleep(2000);

  const delivered: number[] = [];
  let received = 0;
  for (const mine of arrivals) {
    received += Math.min(mine.length, sent.length);
    for (let k = 0; k < Math.min(mine.length, sent.length); k++) delivered.push(mine[k]! - sent[k]!.at);
  }
  const durable = sent.map((s) => {
    const ack = acks.find((a) => a.clock >= s.clock);
    return ack ? ack.at - s.at : NaN;
  }).filter((x) => !Number.isNaN(x));

  for (const ws of sockets) ws.terminate();
  writer.terminate();
  return {
    readers, rate, seconds, sent: sent.length,
    deliveryRatio: received / (sent.length * readers),
    delivered: stats(delivered),
    durable: stats(durable),
  };
}
