/**
 * A load-generator process driving writers: each a real Yjs doc typing markers into its own entry's
 * observations, on a fixed schedule shared by all writers (evenly interleaved). Incoming broadcasts are
 * ignored — only Bridgelog's "persisted" (type 100) acknowledgements are read, to time durability.
 *
 *   orchestrator → config → (connects, creates entries, warms up) → ready → go → result
 */
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import { createEntry, entryText } from '../../shared/schema/doc.js';
import { connect, type Client } from './client.js';
import { cpuMeter, parent, type CpuUse } from './ipc.js';
import { marker, now, type Target } from './wire.js';

export interface WritersConfig {
  /** One per writer. */
  targets: Target[];
  /** Updates per second, per writer. */
  rate: number;
  seconds: number;
  /** The server acknowledges durability (Bridgelog's message 100): time it. */
  durable: boolean;
  /** After the last send, how long to wait for stragglers. */
  drainMs: number;
}

export interface WritersResult {
  type: 'result';
  sent: number;
  /** Send → "persisted" covering it, ms (Bridgelog only). */
  durable: Float64Array;
  firstSentAt: number;
  lastDurableAt: number;
  /** Sends that left more than 5 ms after their slot: the generator itself fell behind. */
  lateSends: number;
  cpu: CpuUse;
}

const config = await parent.config<WritersConfig>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const durable: number[] = [];
let lastDurableAt = 0;

class Writer {
  readonly doc = new Y.Doc();
  private text!: Y.Text;
  private client!: Client;
  private last: Uint8Array = new Uint8Array();
  /** Sent, not yet acknowledged durable; clocks ascend. */
  private readonly pending: Array<{ clock: number; sentAt: number; timed: boolean }> = [];

  static async open(target: Target, index: number): Promise<Writer> {
    const w = new Writer();
    w.client = await connect(target, (data, kind, at) => kind === 'persisted' && w.onPersisted(data, at));
    const id = createEntry(w.doc, { kind: 'test', title: `writer ${index}`, ranAt: new Date().toISOString(), command: 'bench' });
    w.text = entryText(w.doc, id, 'observations')!;
    w.client.socket.send(w.client.wire.update(w.last));
    return w;
  }

  private constructor() {
    this.doc.on('update', (u: Uint8Array) => (this.last = u));
  }

  /** Appends `s` to the entry and sends that one update. */
  type(s: string, sentAt: number, timed: boolean): void {
    this.text.insert(this.text.length, s);
    this.client.socket.send(this.client.wire.update(this.last));
    if (config.durable) this.pending.push({ clock: Y.getState(this.doc.store, this.doc.clientID), sentAt, timed });
  }

  private onPersisted(data: Buffer, at: number): void {
    if (!this.client) return; // Bridgelog's ack of the hello can beat the connect promise
    const dec = decoding.createDecoder(data.subarray(this.client.wire.offset));
    decoding.readVarUint(dec);
    const clock = Y.decodeStateVector(decoding.readVarUint8Array(dec)).get(this.doc.clientID) ?? 0;
    let done = 0;
    while (done < this.pending.length && this.pending[done]!.clock <= clock) {
      const p = this.pending[done++]!;
      if (p.timed) {
        durable.push(at - p.sentAt);
        lastDurableAt = at;
      }
    }
    this.pending.splice(0, done);
  }
}

const writers: Writer[] = [];
for (const target of config.targets) writers.push(await Writer.open(target, writers.length));

let lateSends = 0;
let firstSentAt = 0;

/** Every writer sends `rate` updates a second for `seconds`, writer w offset by w/W of a period. */
async function run(seconds: number, timed: boolean): Promise<void> {
  const W = writers.length;
  const total = W * Math.round(config.rate * seconds);
  const step = 1000 / config.rate / W;
  const t0 = now() + 5;
  for (let s = 0; s < total; s++) {
    const due = t0 + s * step;
    const wait = due - now();
    if (wait > 0) await sleep(wait);
    const sentAt = now();
    if (sentAt - due > 5) lateSends++;
    if (timed && s === 0) firstSentAt = sentAt;
    // The send time is taken before the insert, so Yjs encoding the update (tens of µs) counts as latency.
    writers[s % W]!.type(timed ? marker(s % W, Math.floor(s / W), sentAt) : '.', sentAt, timed);
  }
}

// Warm-up: a second of the same traffic without markers, so no server is timed while its JIT is cold.
await run(1, false);
await sleep(500);
lateSends = 0;
parent.post({ type: 'ready' });

await parent.next('go');
const cpu = cpuMeter();
await run(config.seconds, true);
await sleep(config.drainMs);
parent.post({
  type: 'result',
  sent: writers.length * Math.round(config.rate * config.seconds),
  durable: Float64Array.from(durable),
  firstSentAt,
  lastDurableAt,
  lateSends,
  cpu: cpu(),
} satisfies WritersResult);
