/**
 * How each node keeps its copy of the catalog (users, tokens, sessions, incidents, alerts, seen marks,
 * attachment records) in step with PostgreSQL, which alone is the truth.
 *
 * Reads must stay synchronous and free of round trips (every request and socket is authenticated), so
 * each node holds a replica of every catalog table in memory. A write goes to PostgreSQL first; once it
 * has committed, the writing node puts the committed row into its replica before the write resolves
 * (so the writer reads its own writes). Every change of a row is announced to all nodes, in its
 * transaction, by a trigger: NOTIFY bl_catalog {"table", "key"} (migrations/002-catalog.ts). Each node
 * has one CatalogFeed: one connection doing LISTEN bl_catalog, handing each notification to the
 * replica of its table, which reads that row again (or drops it if it is gone). Notifications sent
 * while the connection is down are lost: when the feed has a connection again it LISTENs first, then
 * has every replica read its whole table again.
 *
 * Rows carry a version (from one sequence, taken at every insert and update, so it only grows): a
 * replica keeps the newest version it has seen, so a read that was overtaken by a newer commit cannot
 * take a row back; and a row this node removed is not brought back by a read that started before the
 * removal.
 *
 * Records handed out are frozen (deepFreeze) or copies (alerts, pg-alerts.ts): a caller cannot change
 * the replica by changing a record.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import type { AccessChange } from '../../auth/access-changes.js';
import { isUnavailable } from './database.js';

export const CATALOG_CHANNEL = 'bl_catalog';

/** What a replica is told by the feed. */
export interface CatalogListener {
  /** A row of its table changed or went (`key` as the notification gave it). */
  changed(key: unknown): void;
  /** Notifications may have been lost (the feed's connection was lost and is back): read everything. */
  reload(): void;
  /** Resolves when the reads asked for so far are done. */
  idle(): Promise<void>;
}

export interface CatalogFeedOptions {
  /** Wait before the first reconnection attempt, doubled after each failed one. */
  reconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
  /** How often the connection is checked; one that does not answer within this is replaced. */
  pingMs?: number;
  applicationName?: string;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

/** The socket under a pg.Client (not in its types), to drop a connection that stopped answering. */
type WithStream = { connection?: { stream?: { destroy(): void } }; processID?: number };

/** One LISTEN connection per node for the whole catalog; reconnects by itself until closed. */
export class CatalogFeed {
  private client: pg.Client | undefined;
  private readonly listeners = new Map<string, Set<CatalogListener>>();
  private readonly accessHandlers = new Set<(change: AccessChange) => void>();
  private readonly stop = new AbortController();
  private reconnecting: Promise<void> | undefined;
  private readonly pinger: NodeJS.Timeout;
  /** The ping under way, if any. */
  private pinging: object | undefined;
  private readonly options: Required<CatalogFeedOptions>;
  /** Times the feed connected again after losing its connection. */
  reconnections = 0;

  private constructor(
    private readonly url: string,
    private readonly log: Logger | undefined,
    options: CatalogFeedOptions,
  ) {
    this.options = {
      reconnectDelayMs: options.reconnectDelayMs ?? 100,
      maxReconnectDelayMs: options.maxReconnectDelayMs ?? 5_000,
      pingMs: options.pingMs ?? 15_000,
      applicationName: options.applicationName ?? 'bridgelog-catalog-feed',
    };
    this.pinger = setInterval(() => this.ping(), this.options.pingMs);
    this.pinger.unref();
  }

  /** Connects and LISTENs (rejects if PostgreSQL cannot be reached now). */
  static async open(url: string, log?: Logger, options: CatalogFeedOptions = {}): Promise<CatalogFeed> {
    const feed = new CatalogFeed(url, log, options);
    try {
      await feed.connect();
    } catch (err) {
      await feed.close();
      throw err;
    }
    return feed;
  }

  /** Whether the LISTEN connection is up: while it is not, this node's catalog may be behind. */
  get connected(): boolean {
    return this.client !== undefined;
  }

  /** The PostgreSQL backend PID of the LISTEN connection (diagnostics, tests). */
  get backendPid(): number | undefined {
    return (this.client as WithStream | undefined)?.processID;
  }

  /** `listener` is told of the changes to `table`; returns the function that stops it. */
  subscribe(table: string, listener: CatalogListener): () => void {
    let set = this.listeners.get(table);
    if (!set) this.listeners.set(table, (set = new Set()));
    set.add(listener);
    return () => void set.delete(listener);
  }

  /** Called when another node changed who may see what (found by the metadata replica). */
  onRemoteAccessChange(handler: (change: AccessChange) => void): void {
    this.accessHandlers.add(handler);
  }

  /** For the metadata replica: a change made elsewhere took access away, or may have. */
  remoteAccessChanged(change: AccessChange): void {
    for (const handler of this.accessHandlers) {
      try {
        handler(change);
      } catch (err) {
        this.log?.error({ err }, 'handling an access change from another node');
      }
    }
  }

  /**
   * Resolves once every replica holds what was committed anywhere before the call (a node's own
   * writes are in at once; another node's arrive by notification, a few milliseconds later). A query
   * on the LISTEN connection is the barrier: PostgreSQL delivers the notifications of transactions
   * committed before it ahead of its answer; then each replica finishes the reads they asked for.
   * While the feed is reconnecting, it waits for that and for the whole-table reads it starts.
   * Used on a miss only (a token or incident this node does not know yet), so a client sent to
   * another node right after a change is not refused for the replica's lag.
   */
  caughtUp(): Promise<void> {
    // Callers share barriers: the one under way, and at most one queued behind it (which every
    // caller arriving meanwhile joins), so a flood of unknown tokens costs at most two queries.
    if (!this.barrier) return this.startBarrier();
    this.nextBarrier ??= this.barrier.catch(() => undefined).then(() => {
      this.nextBarrier = undefined;
      return this.startBarrier();
    });
    return this.nextBarrier;
  }

  private barrier: Promise<void> | undefined;
  private nextBarrier: Promise<void> | undefined;

  private startBarrier(): Promise<void> {
    const run: Promise<void> = this.barrierOnce().finally(() => {
      if (this.barrier === run) this.barrier = undefined;
    });
    this.barrier = run;
    return run;
  }

  private async barrierOnce(): Promise<void> {
    if (this.reconnecting) await this.reconnecting;
    const client = this.client;
    if (client) await client.query('SELECT 1');
    await Promise.all([...this.listeners.values()].flatMap((set) => [...set].map((l) => l.idle())));
  }

  async close(): Promise<void> {
    this.stop.abort();
    clearInterval(this.pinger);
    await this.reconnecting;
    const client = this.client;
    this.client = undefined;
    if (client) await client.end().catch(() => undefined);
    this.listeners.clear();
    this.accessHandlers.clear();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.url,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      connectionTimeoutMillis: 5_000,
      application_name: this.options.applicationName,
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client));
    client.on('notification', (msg) => this.dispatch(msg));
    try {
      await client.connect();
      await client.query(`LISTEN ${CATALOG_CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.stop.signal.aborted) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
  }

  private lost(client: pg.Client, err?: Error): void {
    if (client !== this.client) return;
    this.client = undefined;
    void client.end().catch(() => undefined);
    if (this.stop.signal.aborted) return;
    this.log?.warn({ err: err?.message }, 'catalog feed: lost its PostgreSQL connection; reconnecting');
    this.reconnect();
  }

  private reconnect(): void {
    if (this.reconnecting) return;
    this.reconnecting = (async () => {
      let delay = this.options.reconnectDelayMs;
      while (!this.stop.signal.aborted && !this.client) {
        const wake = (this.wake = new AbortController());
        await sleep(delay, AbortSignal.any([this.stop.signal, wake.signal]));
        if (this.stop.signal.aborted) break;
        try {
          await this.connect();
        } catch (err) {
          this.log?.warn({ err: (err as Error).message, retryInMs: delay }, 'catalog feed: cannot reconnect yet');
          delay = Math.min(delay * 2, this.options.maxReconnectDelayMs);
        }
      }
      this.reconnecting = undefined;
      if (!this.client) return;
      this.reconnections++;
      this.log?.info('catalog feed: connected again; every replica reads its table again');
      // LISTEN is on again: whatever changed while it was not is read now.
      for (const set of this.listeners.values()) for (const l of set) l.reload();
    })();
  }

  private wake: AbortController | undefined;

  /**
   * PostgreSQL answers again (the node's readiness probe found it): try to reconnect now rather
   * than after the backoff, so the catalog is not left behind while the node serves again.
   */
  reconnectNow(): void {
    if (this.reconnecting) this.wake?.abort();
  }

  private dispatch(msg: pg.Notification): void {
    if (msg.channel !== CATALOG_CHANNEL || !msg.payload) return;
    let note: { table?: unknown; key?: unknown };
    try {
      note = JSON.parse(msg.payload) as { table?: unknown; key?: unknown };
    } catch {
      return;
    }
    if (typeof note.table !== 'string') return;
    for (const l of this.listeners.get(note.table) ?? []) l.changed(note.key);
  }

  /** A connection that does not answer (a half-open TCP connection) is dropped, and replaced. */
  private ping(): void {
    const client = this.client;
    if (!client || this.pinging) return;
    const ping = (this.pinging = {});
    const done = () => {
      if (this.pinging === ping) this.pinging = undefined;
    };
    const timeout = setTimeout(() => {
      // The query may never settle now: the next connection is pinged regardless.
      done();
      this.log?.warn('catalog feed: PostgreSQL does not answer on the LISTEN connection; replacing it');
      (client as WithStream).connection?.stream?.destroy();
      this.lost(client, new Error('ping timeout'));
    }, this.options.pingMs);
    timeout.unref();
    client
      .query('SELECT 1')
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(timeout);
        done();
      });
  }
}

// ------------------------------------------------------------------------------------------- replicas

/** A row as read from a catalog table: its key, order, version and value (the JSON text stored). */
export interface StoredRow {
  key: string;
  pos: number;
  version: number;
  value: string;
}

export interface ReplicaOptions<T> {
  feed: CatalogFeed;
  /** The table, as notifications name it. */
  table: string;
  /** The rows with these keys (those that exist), or every row (`undefined`), in `pos` order. */
  read(keys: string[] | undefined): Promise<StoredRow[]>;
  /** What the replica holds for a row (frozen, or otherwise safe to hand out). */
  decode(row: StoredRow): T;
  /** The replica's key for a notification's key (default: a string is the key). */
  keyOf?(notified: unknown): string | undefined;
  /** Lookups by something else than the key, one value each (a unique column). */
  indexes?: Record<string, (value: T) => string | undefined>;
  /**
   * A change found by reading a row again (`undefined` when absent): made by another node, or now and
   * then this node's own, when its commit's notification is read before the commit's reply arrives.
   */
  onRemoteChange?(key: string, before: T | undefined, after: T | undefined): void;
  log?: Logger;
}

interface Entry<T> {
  pos: number;
  version: number;
  value: T;
  /** The generation of this node's last commit of the row (see `gen`). */
  gen: number;
}

/**
 * One catalog table held in memory. Reads of PostgreSQL (a notified row, or all of them) happen one at
 * a time; this node's commits are put in at once, between them. `gen` orders both: a read started
 * at generation g does not remove a row this node committed after g, nor bring back one it removed.
 */
export class Replica<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly indexes = new Map<string, { of: (value: T) => string | undefined; keys: Map<string, string> }>();
  private list: T[] | undefined;
  private maxPos = -Infinity;
  private unsorted = false;
  private gen = 0;
  private reading: number | undefined;
  private readonly removedDuringRead = new Set<string>();
  private wantAll = false;
  private readonly wantKeys = new Set<string>();
  private working: Promise<void> | undefined;
  private readonly stop = new AbortController();
  private readonly unsubscribe: () => void;

  private constructor(private readonly o: ReplicaOptions<T>) {
    for (const [name, of] of Object.entries(o.indexes ?? {})) this.indexes.set(name, { of, keys: new Map() });
    this.unsubscribe = o.feed.subscribe(o.table, {
      changed: (notified) => {
        const key = o.keyOf ? o.keyOf(notified) : typeof notified === 'string' ? notified : undefined;
        if (key !== undefined) this.refresh(key);
      },
      reload: () => this.reload(),
      idle: () => this.idle(),
    });
  }

  /** Subscribes to the table's notifications, then reads all of it. */
  static async open<T>(options: ReplicaOptions<T>): Promise<Replica<T>> {
    const replica = new Replica(options);
    try {
      await replica.firstLoad();
    } catch (err) {
      await replica.close();
      throw err;
    }
    return replica;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): T | undefined {
    return this.entries.get(key)?.value;
  }

  /** The value and the version it is at (to write a change computed from it). */
  entry(key: string): { value: T; version: number } | undefined {
    return this.entries.get(key);
  }

  by(index: string, value: string): T | undefined {
    const key = this.indexes.get(index)?.keys.get(value);
    return key === undefined ? undefined : this.entries.get(key)?.value;
  }

  /** Every value, in the order rows were first stored; a new array each time. */
  values(): T[] {
    if (!this.list) {
      if (this.unsorted) {
        const sorted = [...this.entries].sort((a, b) => a[1].pos - b[1].pos);
        this.entries.clear();
        for (const [k, e] of sorted) this.entries.set(k, e);
        this.unsorted = false;
      }
      this.list = [...this.entries.values()].map((e) => e.value);
    }
    return this.list.slice();
  }

  /**
   * Rows this node has just committed, and keys it has just removed: in at once. Returns what the
   * replica holds for each row afterwards (a newer version, if one was read meanwhile).
   */
  committed(rows: StoredRow[], removed: string[] = []): T[] {
    const gen = ++this.gen;
    const out: T[] = [];
    for (const row of rows) {
      const held = this.entries.get(row.key);
      if (!held || row.version > held.version) this.set(row.key, { pos: row.pos, version: row.version, value: this.o.decode(row), gen });
      else held.gen = gen;
      out.push(this.entries.get(row.key)!.value);
    }
    for (const key of removed) {
      this.delete(key);
      if (this.reading !== undefined) this.removedDuringRead.add(key);
    }
    return out;
  }

  /** Changes what is held for `key` in this node's memory only, at the same version (see tokenUsed). */
  patch(key: string, value: T): void {
    const held = this.entries.get(key);
    if (held) this.set(key, { ...held, value });
  }

  /** Reads the row again (as for a notification). */
  refresh(key: string): void {
    this.wantKeys.add(key);
    this.kick();
  }

  /** Reads the whole table again. */
  reload(): void {
    this.wantAll = true;
    this.kick();
  }

  /** Resolves when no read is asked for or under way. */
  async idle(): Promise<void> {
    while (this.working) await this.working;
  }

  /** Stops following the table; waits for a read under way. */
  async close(): Promise<void> {
    this.stop.abort();
    this.unsubscribe();
    await this.working;
  }

  private async firstLoad(): Promise<void> {
    // Held as "working" so that notifications arriving meanwhile wait for it, then are read.
    let done!: () => void;
    this.working = new Promise((resolve) => (done = resolve));
    try {
      await this.readAndApply(undefined, false);
    } finally {
      this.working = undefined;
      done();
      if (this.wantAll || this.wantKeys.size > 0) this.kick();
    }
  }

  private kick(): void {
    if (this.working || this.stop.signal.aborted) return;
    this.working = this.work().finally(() => (this.working = undefined));
  }

  private async work(): Promise<void> {
    let delay = 100;
    while (!this.stop.signal.aborted && (this.wantAll || this.wantKeys.size > 0)) {
      const all = this.wantAll;
      const keys = all ? undefined : [...this.wantKeys];
      // A whole-table read started now covers every key notified so far.
      this.wantAll = false;
      this.wantKeys.clear();
      try {
        await this.readAndApply(keys, true);
        delay = 100;
      } catch (err) {
        if (all) this.wantAll = true;
        else for (const k of keys!) this.wantKeys.add(k);
        this.o.log?.warn({ err: (err as Error).message, table: this.o.table, retryInMs: delay }, 'catalog replica: cannot read its table; retrying');
        await sleep(delay, this.stop.signal);
        delay = Math.min(delay * 2, 5_000);
      }
    }
  }

  private async readAndApply(keys: string[] | undefined, remote: boolean): Promise<void> {
    const started = ++this.gen;
    this.reading = started;
    this.removedDuringRead.clear();
    try {
      const rows = await this.o.read(keys);
      const seen = new Set<string>();
      for (const row of rows) {
        seen.add(row.key);
        // Removed by this node after the read began: this is the row as it was before.
        if (this.removedDuringRead.has(row.key)) continue;
        const held = this.entries.get(row.key);
        if (held && row.version <= held.version) continue;
        const value = this.o.decode(row);
        this.set(row.key, { pos: row.pos, version: row.version, value, gen: held?.gen ?? 0 });
        if (remote) this.o.onRemoteChange?.(row.key, held?.value, value);
      }
      for (const key of keys ?? [...this.entries.keys()]) {
        if (seen.has(key)) continue;
        const held = this.entries.get(key);
        // Committed by this node after the read began: newer than what the read saw.
        if (!held || held.gen > started) continue;
        this.delete(key);
        if (remote) this.o.onRemoteChange?.(key, held.value, undefined);
      }
    } finally {
      this.reading = undefined;
      this.removedDuringRead.clear();
    }
  }

  private set(key: string, entry: Entry<T>): void {
    const before = this.entries.get(key);
    if (before) this.unindex(key, before.value);
    else if (entry.pos < this.maxPos) this.unsorted = true;
    this.maxPos = Math.max(this.maxPos, entry.pos);
    this.entries.set(key, entry);
    for (const index of this.indexes.values()) {
      const v = index.of(entry.value);
      if (v !== undefined) index.keys.set(v, key);
    }
    this.list = undefined;
  }

  private delete(key: string): void {
    const before = this.entries.get(key);
    if (!before) return;
    this.unindex(key, before.value);
    this.entries.delete(key);
    this.list = undefined;
  }

  private unindex(key: string, value: T): void {
    for (const index of this.indexes.values()) {
      const v = index.of(value);
      if (v !== undefined && index.keys.get(v) === key) index.keys.delete(v);
    }
  }
}

// -------------------------------------------------------------------------------------------- helpers

/** Freezes `value` and everything in it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** A frozen record from a stored row. */
export const frozenRecord = <T>(row: StoredRow): T => deepFreeze(JSON.parse(row.value) as T);

/** Reads of a table keyed by one text column, as Replica wants them. */
export function readByKey(pool: pg.Pool, table: string, keyColumn: string): (keys: string[] | undefined) => Promise<StoredRow[]> {
  const select = `SELECT ${keyColumn} AS key, pos, version, value::text AS value FROM ${table}`;
  return async (keys) => {
    const result = keys
      ? await pool.query<StoredRow>(`${select} WHERE ${keyColumn} = ANY($1::text[]) ORDER BY pos`, [keys])
      : await pool.query<StoredRow>(`${select} ORDER BY pos`);
    return result.rows;
  };
}

/** `current` with `change` applied: a key set to undefined is removed (as it is from the embedded file). */
export function merged<T extends object>(current: T, change: object): T {
  const next = { ...current } as Record<string, unknown>;
  for (const [k, v] of Object.entries(change)) {
    if (v === undefined) delete next[k];
    else next[k] = v;
  }
  return next as T;
}

/**
 * Changes one row's value. First, if the caller holds the row at some version, `attempt` (computed from
 * that) is written only if the row is still at that version: one round trip when this node is up to
 * date. Otherwise the row is read under a lock, `change` decides from what is stored (undefined: leave
 * it), and the result is written in the same transaction. Undefined if there is no such row.
 */
export async function updateRow<T extends object>(
  pool: pg.Pool,
  table: string,
  keyColumn: string,
  key: string,
  attempt: { version: number; value: T } | undefined,
  change: (current: T) => T | undefined,
): Promise<{ row: StoredRow; changed: boolean } | undefined> {
  if (attempt) {
    const value = JSON.stringify(attempt.value);
    const { rows } = await pool.query<{ pos: number; version: number }>(
      `UPDATE ${table} SET value = $2 WHERE ${keyColumn} = $1 AND version = $3 RETURNING pos, version`,
      [key, value, attempt.version],
    );
    if (rows[0]) return { row: { key, pos: rows[0].pos, version: rows[0].version, value }, changed: true };
  }
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<StoredRow>(`SELECT ${keyColumn} AS key, pos, version, value::text AS value FROM ${table} WHERE ${keyColumn} = $1 FOR UPDATE`, [key]);
    const current = rows[0];
    if (!current) {
      await client.query('COMMIT');
      return undefined;
    }
    const next = change(JSON.parse(current.value) as T);
    if (next === undefined) {
      await client.query('COMMIT');
      return { row: current, changed: false };
    }
    const value = JSON.stringify(next);
    const updated = await client.query<{ pos: number; version: number }>(`UPDATE ${table} SET value = $2 WHERE ${keyColumn} = $1 RETURNING pos, version`, [key, value]);
    await client.query('COMMIT');
    return { row: { key, pos: updated.rows[0]!.pos, version: updated.rows[0]!.version, value }, changed: true };
  } catch (err) {
    // A connection that failed is dropped from the pool; one whose query was refused is fine.
    if (isUnavailable(err)) broken = err as Error;
    else await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release(broken);
  }
}
