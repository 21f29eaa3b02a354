/**
 * A load-generator process driving writers: each a real Yjs doc typing markers into its own entry's
 * observations, on a fixed schedule shared by all writers (evenly interleaved). Incoming broadcasts are
 * ignored — only the server's acknowledgements are read, to time them: Bridgelog's "persisted"
 * (type 100, durable) or Hocuspocus's SyncStatus (applied in memory).
 *
 *   orchestrator → config → (connects, creates entries, warms up) → ready → go → result
 *
 * With `reportAcks` it also posts `acked` each time a writer's acknowledged updates grow, so that an
 * orchestrator that SIGKILLs this process knows what each writer had been told (the loss drill).
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
  /** The acknowledgement to time: Bridgelog's "persisted" (by state vector), Hocuspocus's "synced" (one per update, in order). */
  ack: 'persisted' | 'synced' | null;
  /** Post `acked` as acknowledgements arrive (see WritersAcked). */
  reportAcks?: boolean;
  /** After the last send, how long to wait for stragglers. */
  drainMs: number;
}

export interface WritersResult {
  type: 'result';
  sent: number;
  /** Send → the acknowledgement covering it, ms (when `ack` is set). */
  acked: Float64Array;
  firstSentAt: number;
  lastAckedAt: number;
  /** Sends that left more than 5 ms after their slot: the generator itself fell behind. */
  lateSends: number;
  cpu: CpuUse;
}

/** Writer `writer` had been told its timed updates 0..`seq` (marker seqs) were acknowledged. */
export interface WritersAcked {
  type: 'acked';
  writer: number;
  seq: number;
}

const config = await parent.config<WritersConfig>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const acked: number[] = [];
let lastAckedAt = 0;

class Writer {
  readonly doc = new Y.Doc();
  private text!: Y.Text;
  private client!: Client;
  private last: Uint8Array = new Uint8Array();
  /** Sent, not yet acknowledged, in sending order (clocks ascend); `seq` is the marker's, -1 if untimed. */
  private readonly pending: Array<{ clock: number; sentAt: number; seq: number }> = [];

  static async open(target: Target, index: number): Promise<Writer> {
    const w = new Writer(index);
    w.client = await connect(target, (data, kind, at) => {
      if (kind === 'persisted' && config.ack === 'persisted') w.onPersisted(data, at);
      if (kind === 'synced' && config.ack === 'synced') w.acknowledge(1, at);
    });
    const id = createEntry(w.doc, { kind: 'test', title: `writer ${index}`, ranAt: new Date().toISOString(), command: 'bench' });
    w.text = entryText(w.doc, id, 'observations')!;
    w.send(now(), -1);
    return w;
  }

  private constructor(private readonly index: number) {
    this.doc.on('update', (u: Uint8Array) => (this.last = u));
  }

  /** Appends `s` to the entry and sends that one update; `seq` is its marker's (-1: not timed). */
  type(s: string, sentAt: number, seq: number): void {
    this.text.insert(this.text.length, s);
    this.send(sentAt, seq);
  }

  private send(sentAt: number, seq: number): void {
    this.client.socket.send(this.client.wire.update(this.last));
    if (config.ack) this.pending.push({ clock: Y.getState(this.doc.store, this.doc.clientID), sentAt, seq });
  }

  /** Bridgelog: every update whose clock the durable state vector covers. */
  private onPersisted(data: Buffer, at: number): void {
    if (!this.client) return; // Bridgelog's ack of the hello can beat the connect promise
    const dec = decoding.createDecoder(data.subarray(this.client.wire.offset));
    decoding.readVarUint(dec);
    const clock = Y.decodeStateVector(decoding.readVarUint8Array(dec)).get(this.doc.clientID) ?? 0;
    let n = 0;
    while (n < this.pending.length && this.pending[n]!.clock <= clock) n++;
    this.acknowledge(n, at);
  }

  /** The oldest `n` pending updates are acknowledged. */
  private acknowledge(n: number, at: number): void {
    let lastSeq = -1;
    for (const p of this.pending.splice(0, n)) {
      if (p.seq < 0) continue;
      acked.push(at - p.sentAt);
      lastAckedAt = at;
      lastSeq = p.seq;
    }
    if (config.reportAcks && lastSeq >= 0) parent.post({ type: 'acked', writer: this.index, seq: lastSeq } satisfies WritersAcked);
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
    const seq = Math.floor(s / W);
    writers[s % W]!.type(timed ? marker(s % W, seq, sentAt) : '.', sentAt, timed ? seq : -1);
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
  acked: Float64Array.from(acked),
  firstSentAt,
  lastAckedAt,
  lateSends,
  cpu: cpu(),
} satisfies WritersResult);
