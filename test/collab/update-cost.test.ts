/**
 * Updates that would hold the server's event loop for everyone — thousands of nested types, or more
 * structs than any client sends — are refused from their bytes alone, before Yjs decodes them, while
 * everything the web app and the CLI write goes through.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { createEntry, createHypothesis, entriesOf, setVerdict } from '../../shared/schema/doc.js';
import { CloseCode } from '../../shared/protocol.js';
import { measureUpdate, UpdateLimits } from '../../server/collab/update-cost.js';
import { encodeUpdate, ProtocolError } from '../../server/collab/protocol.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let token: string;
let incidentId: string;
beforeAll(async () => {
  server = await startTestServer();
  token = (await server.createUser('responder', 'costly')).token;
  incidentId = (await server.createIncident(token)).id;
});
afterAll(async () => {
  await server.close();
});

/** What `change` adds to a document that already has an entry (as a client's update would be). */
function updateOf(change: (doc: Y.Doc, entry: Y.Map<unknown>) => void): Uint8Array {
  const doc = new Y.Doc();
  const id = createEntry(doc, { kind: 'test', title: 'base', ranAt: '2026-12-01T00:00:00.000Z' });
  const before = Y.encodeStateVector(doc);
  doc.transact(() => change(doc, entriesOf(doc).get(id)!));
  return Y.encodeStateAsUpdate(doc, before);
}

const nestedMaps = (depth: number) => updateOf((_doc, entry) => {
  let map = entry;
  for (let i = 0; i < depth; i++) {
    const inner = new Y.Map<unknown>();
    map.set('x', inner);
    map = inner;
  }
});

const refusal = (update: Uint8Array) => {
  try {
    measureUpdate(update);
    return undefined;
  } catch (err) {
    return err instanceof ProtocolError ? err.reason : String(err);
  }
};

describe('the cost of an update, from its bytes', () => {
  it('lets through what the web app and the CLI write', () => {
    const doc = new Y.Doc();
    const entry = createEntry(doc, { kind: 'test', title: 'iperf3 to db01', ranAt: '2026-12-01T00:00:00.000Z', command: 'iperf3 -c db01', observations: 'x'.repeat(100_000), conclusion: 'fine' });
    const hypothesis = createHypothesis(doc, 'switch stack bug');
    setVerdict(doc, entry, hypothesis, 'refutes');
    expect(refusal(Y.encodeStateAsUpdate(doc))).toBeUndefined();
    // Many entries made offline, sent at once by the sync after reconnecting.
    const offline = new Y.Doc();
    for (let i = 0; i < 1000; i++) createEntry(offline, { kind: 'note', title: `note ${i}`, ranAt: '2026-12-01T00:00:00.000Z' });
    expect(measureUpdate(Y.encodeStateAsUpdate(offline)).types).toBe(8000); // an entry and its 7 fields' types
  });

  it('refuses types nested deeper than the schema, whether through maps or arrays', () => {
    expect(refusal(nestedMaps(3))).toMatch(/nested deeper/);
    expect(refusal(nestedMaps(40_000))).toMatch(/nested deeper/);
    // Arrays whose nested type is inserted after a value: its parent is known only through its neighbour.
    const viaArrays = updateOf((_doc, entry) => {
      let array = entry.get('links') as Y.Array<unknown>;
      for (let i = 0; i < 5; i++) {
        const inner = new Y.Array<unknown>();
        array.push(['value', inner]);
        array = inner;
      }
    });
    expect(refusal(viaArrays)).toMatch(/nested deeper/);
  });

  it('refuses more nested types, or structs, than the limits', () => {
    const flat = new Y.Doc();
    flat.transact(() => {
      for (let i = 0; i <= UpdateLimits.maxTypes; i++) flat.getMap('entries').set(`e${i}`, new Y.Map());
    });
    expect(refusal(Y.encodeStateAsUpdate(flat))).toMatch(/nested types/);
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, 1);
    encoding.writeVarUint(e, UpdateLimits.maxStructs + 1);
    encoding.writeVarUint(e, 1);
    encoding.writeVarUint(e, 0);
    expect(refusal(encoding.toUint8Array(e))).toMatch(/structs/);
    expect(refusal(Uint8Array.of(1, 1, 1, 0, 0xff))).toMatch(/undecodable|unknown/);
  });

  it('refuses a 500 KB update of 40,000 nested maps without stalling anyone', async () => {
    const update = nestedMaps(40_000);
    const frame = encodeUpdate(update);
    let worstHealthMs = 0;
    let probing = true;
    const probe = (async () => {
      while (probing) {
        const started = performance.now();
        await fetch(`${server.url}/healthz`);
        worstHealthMs = Math.max(worstHealthMs, performance.now() - started);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    for (let i = 0; i < 5; i++) {
      const code = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`${server.wsUrl}/collab/${incidentId}?token=${token}`);
        ws.on('open', () => ws.send(frame));
        ws.on('close', (c) => resolve(c));
      });
      expect(code).toBe(CloseCode.malformed);
    }
    probing = false;
    await probe;
    // Decoding it alone held the event loop 0.4–0.8 s here; read from its bytes, it is refused in ~ms.
    expect(worstHealthMs).toBeLessThan(250);
  });
});
