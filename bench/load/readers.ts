/**
 * A load-generator process holding reader sockets. Readers never decode Yjs: on each sync-update
 * frame they search the bytes for writers' markers and record arrival − send time, once per marker.
 *
 *   orchestrator → config → (connects, syncs) → ready [→ go → report] → close → closed
 */
import { connect, openAll } from './client.js';
import type { RawSocket } from './raw-socket.js';
import { cpuMeter, parent, type CpuUse } from './ipc.js';
import { forEachMarker, Wire, type Target } from './wire.js';

export interface ReadersConfig {
  /** One per reader. */
  targets: Target[];
  /** A Yjs update a reader sends after its hello, by reader index (a document's content, to hold it). */
  seeds?: Array<Uint8Array | null>;
  writers: number;
  /** Updates each writer sends (markers carry seq < perWriter). */
  perWriter: number;
  concurrency: number;
}

export interface ReadersReady {
  type: 'ready';
  readers: number;
  connectMs: number;
}

export interface ReadersReport {
  type: 'report';
  /** Arrival − send, ms, one per (reader, update) delivered. */
  latencies: Float64Array;
  /** Which update each latency is of: writer × perWriter + seq. */
  updates: Uint32Array;
  /** Distinct (reader, update) pairs delivered. */
  delivered: number;
  duplicates: number;
  /** Readers whose socket closed during the run. */
  closed: number;
  cpu: CpuUse;
}

const config = await parent.config<ReadersConfig>();
const { targets, writers, perWriter } = config;
const latencies = new Float64Array(targets.length * writers * perWriter);
const updates = new Uint32Array(latencies.length);
let delivered = 0;
let duplicates = 0;
let closed = 0;
let closing = false;

const started = performance.now();
const sockets: RawSocket[] = await openAll(targets.length, config.concurrency, async (r) => {
  const seen = new Uint8Array(writers * perWriter);
  const seed = config.seeds?.[r];
  const target = targets[r]!;
  const { socket } = await connect(
    target,
    (data, kind, at) => {
      if (kind !== 'update') return;
      forEachMarker(data, (w, s, sentAt) => {
        if (w >= writers || s >= perWriter) return;
        const k = w * perWriter + s;
        if (seen[k]) return void duplicates++;
        seen[k] = 1;
        updates[delivered] = k;
        latencies[delivered++] = at - sentAt;
      });
    },
    seed ? [new Wire(target).update(seed)] : [],
  );
  socket.onclose = () => closing || closed++;
  return socket;
});
parent.post({ type: 'ready', readers: sockets.length, connectMs: performance.now() - started } satisfies ReadersReady);

// "go" and "report" frame a timed run; holders of idle connections (the memory test) skip to "close".
let cpu = cpuMeter();
void parent.next('go').then(() => (cpu = cpuMeter()));
void parent.next('report').then(() =>
  parent.post({ type: 'report', latencies: latencies.slice(0, delivered), updates: updates.slice(0, delivered), delivered, duplicates, closed, cpu: cpu() } satisfies ReadersReport),
);

await parent.next('close');
closing = true;
await Promise.all(
  sockets.map(
    (socket) =>
      new Promise<void>((resolve) => {
        if (socket.closed) return resolve();
        socket.onclose = () => resolve();
        socket.close();
        setTimeout(() => (socket.terminate(), resolve()), 5000).unref();
      }),
  ),
);
parent.post({ type: 'closed' });
