/** Real y-websocket frames of every kind, and the ways a hostile client would mangle them. */
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { createEntry } from '../../shared/schema/doc.js';

/** Sync step 1 and 2, updates and an awareness update, as a real client sends them. */
export function seedFrames(): Uint8Array[] {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => updates.push(u));
  createEntry(doc, { kind: 'test', title: 'seed', ranAt: '2026-03-04T06:00:00.000Z', command: 'ping -c 3 db01', observations: 'ok' });
  doc.getMap('meta').set('status', 'identified');
  const frame = (type: number, sub: number | null, payload: Uint8Array) => {
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, type);
    if (sub !== null) encoding.writeVarUint(e, sub);
    encoding.writeVarUint8Array(e, payload);
    return encoding.toUint8Array(e);
  };
  const awareness = (() => {
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, 1);
    encoding.writeVarUint(e, 42);
    encoding.writeVarUint(e, 3);
    encoding.writeVarString(e, JSON.stringify({ user: { name: 'x', color: '#fff' }, cursor: null }));
    return encoding.toUint8Array(e);
  })();
  return [
    frame(0, 0, Y.encodeStateVector(doc)),
    frame(0, 1, Y.encodeStateAsUpdate(doc)),
    ...updates.map((u) => frame(0, 2, u)),
    frame(1, null, awareness),
  ];
}

/** Flipped bytes, truncation, crafted huge length fields, or garbage after a valid prefix. */
export function mutate(frame: Uint8Array, rand: () => number): Uint8Array {
  const out = Uint8Array.from(frame);
  switch (Math.floor(rand() * 4)) {
    case 0: // flip some bytes
      for (let i = 0, n = 1 + Math.floor(rand() * 4); i < n; i++) out[Math.floor(rand() * out.length)] = Math.floor(rand() * 256);
      return out;
    case 1: // truncate
      return out.subarray(0, Math.floor(rand() * out.length));
    case 2: // huge varint somewhere (crafted length fields)
    {
      const at = Math.floor(rand() * out.length);
      return Uint8Array.from([...out.subarray(0, at), 0xff, 0xff, 0xff, 0xff, 0x0f, ...out.subarray(at + 1)]);
    }
    default: // random bytes after a valid prefix
      return Uint8Array.from([...out.subarray(0, 3), ...Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256))]);
  }
}
