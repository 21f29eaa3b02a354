/**
 * The IncidentLog in PostgreSQL, shared by every node (docs/several-nodes.md, "The commit protocol").
 *
 * A node's room appends its updates here; they are committed in batches (group commit: what arrives
 * while one batch is in flight goes in the next), each batch one call of `bl_append` — one round trip,
 * one transaction — which takes the batch's seqs from the incident's head row. That row stays locked
 * until COMMIT, so seqs are given in commit order with no gaps. Only after COMMIT is the room told
 * (it then broadcasts and acknowledges), and the records are published on the cluster bus.
 *
 * Other nodes' records reach the room through `onRemote`, in seq order with nothing missing: from
 * the bus when it delivers them in order, otherwise read from PostgreSQL (`seq > historySeq`) — after
 * a gap, after the bus was away, or when the poll sees the head move. A commit whose outcome is
 * unknown (the connection broke during it) is never acknowledged: the appender fails, the room closes
 * its sockets and the next one loads what PostgreSQL has.
 */
import { DurableWaiters } from '../durable-waiters.js';
import * as Y from 'yjs';
import type pg from 'pg';
import type { Logger } from 'pino';
import { ClientBindings, inspectUpdate } from '../../history/attribution.js';
import type { ClusterBus } from '../cluster-bus.js';
import {
  ClientIdTaken, StorageUnavailable,
  type AppendListener, type IncidentAppender, type IncidentCheckpoint, type IncidentLog, type IncidentLogs, type LoadedIncident, type LogRecord,
  type RemoteRecords,
} from '../incident-log.js';
import { isUnavailable } from './database.js';
import { decodeCommitted, encodeCommitted, INLINE_LIMIT } from './record-message.js';

/** Records read per query: enough to amortise the round trip, small enough to stream a long history. */
const PAGE = 500;
/** Largest batch committed at once (records and bytes); more waits for the next. */
const MAX_BATCH = { records: 2000, bytes: 8 * 1024 * 1024 };

export const channelOf = (incidentId: string) => `bl:inc:${incidentId}`;

interface UpdateRow {
  seq: number;
  at: number;
  user_id: string;
  node_id: string;
  update: Buffer;
}

function failureOf(err: unknown, what: string): Error {
  const e = err as { code?: string; message?: string };
  if (e?.code === 'BL409') return new ClientIdTaken(e.message ?? 'client id belongs to another user');
  if (isUnavailable(err)) return new StorageUnavailable(`${what}: PostgreSQL unavailable (${e?.message})`, { cause: err });
  // Anything else during a commit: whether it committed is not known for sure. Never acknowledged.
  return new Error(`${what}: ${e?.message ?? String(err)}`, { cause: err });
}

export class PgIncidentLog implements IncidentLog {
  /** What the last load ended at, for the appender that continues it. */
  private loadedAt: { seq: number; at: number } | undefined;

  constructor(
    readonly incidentId: string,
    private readonly logs: PgIncidentLogs,
  ) {}

  private get pool(): pg.Pool {
    return this.logs.pool;
  }

  async load(): Promise<LoadedIncident> {
    try {
      return await this.loadFromDatabase();
    } catch (err) {
      throw isUnavailable(err) ? new StorageUnavailable(`incident ${this.incidentId}: PostgreSQL unavailable`, { cause: err }) : err;
    }
  }

  private async loadFromDatabase(): Promise<LoadedIncident> {
    const doc = new Y.Doc();
    const cp = await this.latestCheckpoint();
    if (cp) Y.applyUpdate(doc, cp.doc, 'load');
    const bindings = new ClientBindings(await this.owners());
    let replayed = 0;
    let last = { seq: cp?.seq ?? 0, at: cp?.at ?? 0 };
    for await (const record of this.records({ after: last.seq })) {
      Y.applyUpdate(doc, record.update, 'load');
      last = record;
      replayed++;
    }
    this.loadedAt = last;
    return { doc, bindings, checkpointSeq: cp?.seq ?? 0, replayed };
  }

  startAppending(listener: AppendListener): IncidentAppender {
    if (!this.loadedAt) throw new Error(`incident ${this.incidentId}: load before appending`);
    const appender = new PgAppender(this, this.logs, this.loadedAt, listener);
    this.loadedAt = undefined;
    return appender;
  }

  async *records({ after = 0, upTo = Infinity }: { after?: number; upTo?: number } = {}): AsyncGenerator<LogRecord & { nodeId: string }> {
    let from = after;
    while (from < upTo) {
      const { rows } = await this.pool.query<UpdateRow>(
        `SELECT seq, at, user_id, node_id, "update" FROM incident_updates
          WHERE incident_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT ${PAGE}`,
        [this.incidentId, from, Number.isFinite(upTo) ? upTo : Number.MAX_SAFE_INTEGER],
      );
      for (const r of rows) yield { seq: r.seq, at: r.at, userId: r.user_id, update: new Uint8Array(r.update), nodeId: r.node_id };
      if (rows.length < PAGE) return;
      from = rows[rows.length - 1]!.seq;
    }
  }

  async latestCheckpoint(): Promise<IncidentCheckpoint | undefined> {
    const { rows } = await this.pool.query<{ seq: number; at: number; doc: Buffer }>(
      'SELECT seq, at, doc FROM incident_checkpoints WHERE incident_id = $1 ORDER BY seq DESC LIMIT 1',
      [this.incidentId],
    );
    const row = rows[0];
    if (!row) return undefined;
    // Owners are kept for the whole incident: those bound after `seq` own nothing in this document.
    return { seq: row.seq, at: row.at, doc: new Uint8Array(row.doc), bindings: await this.owners() };
  }

  async writeCheckpoint({ seq, at, doc }: IncidentCheckpoint): Promise<void> {
    // Any node whose document is exactly the history up to `seq` may write it; the same seq twice is the same document.
    await this.pool.query(
      `INSERT INTO incident_checkpoints (incident_id, seq, at, doc) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [this.incidentId, seq, at, Buffer.from(doc)],
    );
    // Older ones are of no use to a load; the log keeps the history.
    await this.pool.query('DELETE FROM incident_checkpoints WHERE incident_id = $1 AND seq < $2', [this.incidentId, seq]);
  }

  async damage(): Promise<undefined> {
    return undefined; // PostgreSQL keeps every committed record or fails loudly: nothing is skipped
  }

  private async owners(): Promise<Map<number, string>> {
    const { rows } = await this.pool.query<{ client_id: number; user_id: string }>(
      'SELECT client_id, user_id FROM incident_client_owners WHERE incident_id = $1',
      [this.incidentId],
    );
    return new Map(rows.map((r) => [r.client_id, r.user_id]));
  }
}

interface Pending {
  userId: string;
  update: Uint8Array;
  claims: number[];
}

/** One room's appends to one incident, and its view of what other nodes committed. */
class PgAppender implements IncidentAppender {
  private pending: Pending[] = [];
  private committing = false;
  private closed = false;
  private failure: Error | undefined;
  private readonly waiters = new DurableWaiters();
  private appended = 0;
  private durable = 0;
  private lastRecordAt: number;
  /** Every record up to here is in the document. */
  private history: { seq: number; at: number };
  /** This appender's committed seqs past `history` (another node's commit came between): already in the document. */
  private ownAhead = new Map<number, number>();
  /** The head seq last seen (poll or bus), to know when to read. */
  private knownHead: number;
  /** Remote work (bus messages, catch-ups), one at a time, in order. */
  private remoteQueue: Promise<void> = Promise.resolve();
  private catchingUp = false;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly log: PgIncidentLog,
    private readonly logs: PgIncidentLogs,
    loaded: { seq: number; at: number },
    private readonly listener: AppendListener,
  ) {
    this.history = { ...loaded };
    this.knownHead = loaded.seq;
    // Positions continue from the log's seq, so a node alone on an incident counts as the log does.
    this.appended = this.durable = loaded.seq;
    this.lastRecordAt = loaded.at;
    this.unsubscribe.push(
      logs.bus.subscribe(channelOf(log.incidentId), (message) => this.onMessage(message)),
      logs.bus.onResume(() => this.catchUp()),
    );
    logs.active.add(this);
    // Whatever was committed between the load and the subscription.
    this.catchUp();
  }

  get incidentId(): string {
    return this.log.incidentId;
  }
  get appendedSeq(): number {
    return this.appended;
  }
  get durableSeq(): number {
    return this.durable;
  }
  get lastAt(): number {
    return this.lastRecordAt;
  }
  get historySeq(): number {
    return this.history.seq;
  }

  settled(): { seq: number; at: number } | undefined {
    return this.appended === this.durable && this.ownAhead.size === 0 && !this.committing ? { ...this.history } : undefined;
  }

  append(userId: string, update: Uint8Array, claims: Iterable<number> = []): LogRecord {
    if (this.closed) throw new Error('update log is closed');
    if (this.failure) throw this.failure;
    this.lastRecordAt = Math.max(Date.now(), this.lastRecordAt);
    this.pending.push({ userId, update, claims: [...claims] });
    this.appended++;
    this.commit();
    return { seq: this.appended, at: this.lastRecordAt, userId, update };
  }

  whenDurable(seq: number = this.appended): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (seq <= this.durable) return Promise.resolve();
    return this.waiters.wait(seq);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.whenDurable().catch(() => undefined);
    this.closed = true;
    this.stop();
    await this.remoteQueue;
  }

  private stop(): void {
    this.logs.active.delete(this);
    for (const off of this.unsubscribe.splice(0)) off();
  }

  /** Sends what is pending as one batch, unless one is in flight (then it goes in the next). */
  private commit(): void {
    if (this.committing || this.pending.length === 0 || this.failure) return;
    let take = 0;
    let bytes = 0;
    while (take < this.pending.length && take < MAX_BATCH.records && (take === 0 || bytes + this.pending[take]!.update.length <= MAX_BATCH.bytes)) {
      bytes += this.pending[take++]!.update.length;
    }
    const batch = this.pending.splice(0, take);
    const upTo = this.durable + batch.length;
    this.committing = true;
    const started = performance.now();
    const claimClients: number[] = [];
    const claimUsers: string[] = [];
    for (const p of batch) for (const c of p.claims) claimClients.push(c), claimUsers.push(p.userId);
    this.logs.pool
      .query<{ first_seq: number; at: number }>('SELECT first_seq, at FROM bl_append($1, $2, $3, $4, $5, $6, $7)', [
        this.incidentId,
        this.logs.bus.instanceId,
        this.lastRecordAt,
        batch.map((p) => p.userId),
        batch.map((p) => Buffer.from(p.update.buffer, p.update.byteOffset, p.update.byteLength)),
        claimClients,
        claimUsers,
      ])
      .then(
        ({ rows }) => this.committed(batch, upTo, rows[0]!.first_seq, rows[0]!.at, performance.now() - started),
        (err) => this.fail(failureOf(err, `incident ${this.incidentId}: commit`)),
      );
  }

  private committed(batch: Pending[], upTo: number, firstSeq: number, at: number, ms: number): void {
    this.committing = false;
    if (this.failure) return;
    const lastSeq = firstSeq + batch.length - 1;
    this.durable = upTo;
    this.lastRecordAt = Math.max(this.lastRecordAt, at);
    this.knownHead = Math.max(this.knownHead, lastSeq);
    // In the document since it was appended: the history moves past it, now or once what came between arrives.
    if (firstSeq === this.history.seq + 1) this.advance(lastSeq, at);
    else if (lastSeq > this.history.seq) {
      for (let s = firstSeq; s <= lastSeq; s++) this.ownAhead.set(s, at);
      this.catchUp();
    }
    this.publish(batch, firstSeq, lastSeq, at);
    this.listener.onDurable({ upToSeq: upTo, syncMs: ms });
    this.waiters.reached(upTo);
    this.commit();
  }

  private publish(batch: Pending[], firstSeq: number, lastSeq: number, at: number): void {
    const bus = this.logs.bus;
    if (!bus.connected) return;
    const bytes = batch.reduce((n, p) => n + p.update.length, 0);
    const records = bytes <= INLINE_LIMIT ? batch : undefined;
    bus.publish(channelOf(this.incidentId), encodeCommitted({ instanceId: bus.instanceId, firstSeq, lastSeq, at, records }));
  }

  /** The history now runs to `seq`; own records just past it come along. */
  private advance(seq: number, at: number): void {
    this.history = { seq, at };
    for (let next = seq + 1, nextAt = this.ownAhead.get(next); nextAt !== undefined; next++, nextAt = this.ownAhead.get(next)) {
      this.ownAhead.delete(next);
      this.history = { seq: next, at: nextAt };
    }
    this.knownHead = Math.max(this.knownHead, this.history.seq);
  }

  private fail(err: Error): void {
    this.committing = false;
    if (this.failure) return;
    this.failure = err;
    this.stop();
    this.waiters.fail(err);
    this.listener.onFailure(err);
  }

  /** A message on the bus: another node's commit (ours are handled at COMMIT). */
  private onMessage(message: Buffer): void {
    let m;
    try {
      m = decodeCommitted(message);
    } catch {
      return; // not ours to understand: PostgreSQL has the truth, the poll will find it
    }
    if (m.instanceId === this.logs.bus.instanceId || m.lastSeq <= this.history.seq) return;
    this.knownHead = Math.max(this.knownHead, m.lastSeq);
    this.remoteQueue = this.remoteQueue.then(() => {
      if (this.failure || this.closed || m.lastSeq <= this.history.seq) return;
      if (!m.records || m.firstSeq > this.history.seq + 1) return this.readRemote();
      const skip = this.history.seq + 1 - m.firstSeq;
      this.deliver(m.records.slice(skip).map((r, i) => ({ seq: m.firstSeq + skip + i, at: m.at, record: { ...r, seq: m.firstSeq + skip + i, at: m.at } })));
    });
  }

  /** Reads what this node does not have yet from PostgreSQL (after a gap, a bus outage, a poll that saw the head move). */
  catchUp(): void {
    if (this.catchingUp || this.failure) return;
    this.catchingUp = true;
    this.remoteQueue = this.remoteQueue.then(() => this.readRemote()).finally(() => (this.catchingUp = false));
  }

  /** The head seq the poll found; reads if it moved past what this node holds. */
  headSeen(seq: number): void {
    this.knownHead = Math.max(this.knownHead, seq);
    if (seq > this.history.seq) this.catchUp();
  }

  private async readRemote(): Promise<void> {
    while (!this.failure && !this.closed) {
      const before = this.history.seq;
      const read: Delivery[] = [];
      try {
        for await (const r of this.log.records({ after: before, upTo: before + PAGE })) {
          // Ours (a commit whose answer is still on its way included) is in the document since it was appended.
          const own = this.ownAhead.has(r.seq) || r.nodeId === this.logs.bus.instanceId;
          read.push(own ? { seq: r.seq, at: r.at } : { seq: r.seq, at: r.at, record: { ...r, claims: [...inspectUpdate(r.update).clients] } });
        }
      } catch (err) {
        this.logs.log.warn({ err, incident: this.incidentId }, "could not read other nodes' records; the next poll tries again");
        return;
      }
      if (read.length === 0) return;
      if (this.history.seq !== before) continue; // the bus delivered meanwhile: read on from there
      this.deliver(read);
      if (read.length < PAGE) return;
    }
  }

  /** Hands the records following `history` to the room, in order, and moves the history past them. */
  private deliver(items: Delivery[]): void {
    const last = items[items.length - 1];
    if (!last) return;
    const records = items.flatMap((i) => (i.record ? [i.record] : []));
    for (const i of items) this.ownAhead.delete(i.seq);
    if (records.length > 0) this.listener.onRemote?.({ records });
    this.advance(last.seq, last.at);
  }
}

/** A record of the history as it reaches this node: another node's (`record`), or one of ours already in the document. */
interface Delivery {
  seq: number;
  at: number;
  record?: RemoteRecords['records'][number];
}

/**
 * Every incident's log in PostgreSQL, and the poll that keeps loaded incidents up to date when the
 * bus is quiet or away: one query for all of them every `pollMs`.
 */
export class PgIncidentLogs implements IncidentLogs {
  readonly active = new Set<PgAppender>();
  private readonly timer: NodeJS.Timeout;
  private polling = false;

  constructor(
    readonly pool: pg.Pool,
    readonly bus: ClusterBus,
    readonly log: Logger,
    pollMs = 2000,
  ) {
    this.timer = setInterval(() => void this.poll(), pollMs);
    this.timer.unref();
  }

  of(incidentId: string): PgIncidentLog {
    return new PgIncidentLog(incidentId, this);
  }

  async create(incidentId: string): Promise<PgIncidentLog> {
    await this.pool.query('INSERT INTO incident_log_heads (incident_id) VALUES ($1) ON CONFLICT DO NOTHING', [incidentId]);
    return this.of(incidentId);
  }

  private async poll(): Promise<void> {
    if (this.polling || this.active.size === 0) return;
    this.polling = true;
    try {
      const byIncident = new Map<string, PgAppender[]>();
      for (const a of this.active) {
        const list = byIncident.get(a.incidentId);
        if (list) list.push(a);
        else byIncident.set(a.incidentId, [a]);
      }
      const { rows } = await this.pool.query<{ incident_id: string; last_seq: number }>(
        'SELECT incident_id, last_seq FROM incident_log_heads WHERE incident_id = ANY($1)',
        [[...byIncident.keys()]],
      );
      for (const row of rows) for (const a of byIncident.get(row.incident_id) ?? []) a.headSeen(row.last_seq);
    } catch (err) {
      this.log.debug({ err }, 'poll of incident heads failed');
    } finally {
      this.polling = false;
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
