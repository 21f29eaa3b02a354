/**
 * Memory: 1,000 idle incidents with 2 idle connections each. Memory (after a full GC) is read before,
 * with one connection per incident — the first sends the incident's content, one entry — and with
 * two; the second step costs only connections, so the difference of the two steps separates a
 * document's cost from a connection's. Then every client leaves, and we watch whether the documents
 * are unloaded (Bridgelog: after IDLE_UNLOAD_MS).
 */
import * as Y from 'yjs';
import { createEntry, entryText } from '../shared/schema/doc.js';
import { progress, sleep } from './lib.js';
import { LoadProcess } from './load/ipc.js';
import type { ReadersConfig } from './load/readers.js';
import type { ProbeReply } from './peers/probe.js';
import { ServerUnderTest, type ServerKind } from './servers.js';

export interface MemoryResult {
  server: ServerKind;
  docs: number;
  baseline: ProbeReply;
  oneEach: ProbeReply;
  twoEach: ProbeReply;
  afterClose: ProbeReply;
  /** Bytes per connection and per document (excluding its connections): heap used, and RSS. */
  perConnection: { heap: number; rss: number };
  perDoc: { heap: number; rss: number };
  /** Everything added, divided by the connections (documents included): heap and RSS. */
  allInPerConnection: { heap: number; rss: number };
  loadedWhileConnected: number;
  loadedAfterClose: number;
  /** Last client gone → no document in memory, ms; null if some were still loaded at the end of the wait. */
  unloadedAfterMs: number | null;
}

const IDLE_UNLOAD_MS = 2000;
/** Long enough for Bridgelog's idle unload and its checkpoints; a server that keeps documents keeps them. */
const UNLOAD_WAIT_MS = IDLE_UNLOAD_MS + 10_000;

/** An incident's content: one entry with a little prose (about 300 bytes as an update). */
function oneEntry(): Uint8Array {
  const doc = new Y.Doc();
  const id = createEntry(doc, { kind: 'test', title: 'ping db01 from app03', ranAt: '2026-03-04T06:30:00.000Z', command: 'ping -c 20 db01' });
  entryText(doc, id, 'observations')!.insert(0, '20 packets transmitted, 17 received, 15% packet loss; rtt min/avg/max 0.41/0.52/9.80 ms');
  return Y.encodeStateAsUpdate(doc);
}

function holders(server: ServerUnderTest, docs: string[], seed?: Uint8Array): LoadProcess {
  return new LoadProcess('readers.ts', {
    targets: docs.map((d) => server.target(d, seed ? 'writer' : 'reader')),
    seeds: seed ? docs.map(() => seed) : undefined,
    writers: 0,
    perWriter: 0,
    concurrency: 50,
  } satisfies ReadersConfig);
}

export async function memory(kind: ServerKind, count: number): Promise<MemoryResult> {
  const server = await ServerUnderTest.start(kind, { idleUnloadMs: IDLE_UNLOAD_MS, label: 'memory' });
  const first = [] as LoadProcess[];
  try {
    const docs = await server.createDocs(count, 'idle');
    await sleep(500);
    const baseline = await server.memory();

    first.push(holders(server, docs, oneEntry()));
    await first[0]!.next('ready', 300_000);
    await sleep(1000);
    const oneEach = await server.memory();

    first.push(holders(server, docs));
    await first[1]!.next('ready', 300_000);
    await sleep(1000);
    const twoEach = await server.memory();
    const loadedWhileConnected = await server.loadedDocs();

    for (const p of first) p.send({ type: 'close' });
    await Promise.all(first.map((p) => p.next('closed')));
    const closedAt = performance.now();
    let loaded = await server.loadedDocs();
    let unloadedAfterMs: number | null = null;
    while (performance.now() - closedAt < UNLOAD_WAIT_MS) {
      loaded = await server.loadedDocs();
      if (loaded === 0) {
        unloadedAfterMs = performance.now() - closedAt;
        break;
      }
      await sleep(100);
    }
    // "Unloaded" is counted when a room is dropped; its close (a checkpoint each) finishes just after.
    let afterClose = await server.memory();
    for (let settled = false; !settled && performance.now() - closedAt < UNLOAD_WAIT_MS + 10_000; ) {
      await sleep(500);
      const next = await server.memory();
      settled = Math.abs(next.heapUsed - afterClose.heapUsed) < 500_000;
      afterClose = next;
    }

    const perConnection = { heap: (twoEach.heapUsed - oneEach.heapUsed) / count, rss: (twoEach.rss - oneEach.rss) / count };
    const perDoc = { heap: (oneEach.heapUsed - baseline.heapUsed) / count - perConnection.heap, rss: (oneEach.rss - baseline.rss) / count - perConnection.rss };
    const allInPerConnection = { heap: (twoEach.heapUsed - baseline.heapUsed) / (2 * count), rss: (twoEach.rss - baseline.rss) / (2 * count) };
    const result: MemoryResult = {
      server: kind,
      docs: count,
      baseline,
      oneEach,
      twoEach,
      afterClose,
      perConnection,
      perDoc,
      allInPerConnection,
      loadedWhileConnected,
      loadedAfterClose: loaded,
      unloadedAfterMs,
    };
    const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
    progress(
      `${kind} memory: per connection ${kb(perConnection.heap)} heap / ${kb(perConnection.rss)} RSS; per doc ${kb(perDoc.heap)} heap / ${kb(perDoc.rss)} RSS; ` +
        `loaded ${loadedWhileConnected} → ${loaded} after close${unloadedAfterMs === null ? '' : ` (${unloadedAfterMs.toFixed(0)} ms)`}`,
    );
    return result;
  } finally {
    await Promise.all(first.map((p) => p.stop()));
    await server.stop();
  }
}
