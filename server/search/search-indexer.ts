/**
 * Keeps the search index following the incidents' histories.
 *
 * - A loaded incident that gained durable changes (this node's commits or another node's,
 *   IncidentRooms.onCommitted), or whose alerts changed, is read again a moment later (`delayMs`,
 *   so a burst of keystrokes is indexed once) — from its live document, once everything in it is
 *   durable: nothing reaches the index that is not on disk.
 * - Embedded: the index lives in memory, so at start every incident is read (in the background,
 *   one at a time, yielding between them; `building` until done).
 * - PostgreSQL: the index is shared; a sweep (at start, then every `sweepMs`) reads again the
 *   incidents whose history moved past what is indexed — changes of a node that died before indexing
 *   them, or incidents no node has loaded.
 *
 * Restricting an incident is a change of its document's `meta` (written by the server), so it is
 * read again like any other change; who may see results is decided at query time anyway.
 */
import type { Logger } from 'pino';
import * as Y from 'yjs';
import type { AlertStore } from '../alerts/alert-store.js';
import type { AttachmentStore } from '../attachments/attachment-store.js';
import type { IncidentRooms } from '../collab/incident-rooms.js';
import type { MetadataStore } from '../store/metadata.js';
import { searchDocsOf } from './search-documents.js';
import type { SearchEngine } from './search-engine.js';
import type { PgSearchEngine } from './postgres/pg-search-engine.js';
import { isUnavailable } from '../storage/postgres/database.js';

export interface SearchIndexerOptions {
  engine: SearchEngine;
  rooms: IncidentRooms;
  store: MetadataStore;
  alerts: AlertStore;
  attachments: AttachmentStore;
  log: Logger;
  /** Wait after a change before reading the incident again. */
  delayMs?: number;
  /** PostgreSQL: how often incidents whose history moved past the index are looked for. */
  sweepMs?: number;
}

const yieldNow = () => new Promise<void>((resolve) => setImmediate(resolve));

export class SearchIndexer {
  private readonly due = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires, if one is. */
  private timerAt: number | undefined;
  private working: Promise<void> | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly delayMs: number;
  /** True until the first full reading (embedded) or sweep (PostgreSQL) is done. */
  building = true;
  /** Incidents read, since start (metrics, tests). */
  indexed = 0;
  buildMs: number | undefined;

  constructor(private readonly o: SearchIndexerOptions) {
    this.delayMs = o.delayMs ?? 250;
    o.rooms.onCommitted((room) => this.schedule(room.incidentId));
  }

  /** Starts the first reading of everything (embedded) or the sweep (PostgreSQL). */
  start(): void {
    const started = performance.now();
    const first = this.o.engine.kind === 'postgres' ? this.sweep() : this.rebuild();
    void first
      .catch((err) => this.o.log.error({ err }, 'search: the first indexing failed; the next change or sweep tries again'))
      .finally(() => {
        this.building = false;
        this.buildMs = performance.now() - started;
        this.o.log.info({ incidents: this.indexed, ms: Math.round(this.buildMs) }, 'search index ready');
        if (this.o.engine.kind === 'postgres' && !this.closed) {
          // PostgreSQL away is said once by the readiness probe, not every second here.
          this.sweeper = setInterval(
            () => void this.sweep().catch((err) => (isUnavailable(err) ? this.o.log.debug({ err: (err as Error).message }, 'search sweep: PostgreSQL unavailable') : this.o.log.warn({ err }, 'search sweep failed'))),
            this.o.sweepMs ?? 1000,
          );
          this.sweeper.unref();
        }
      });
  }

  /** Reads the incident again soon. */
  schedule(incidentId: string, delayMs = this.delayMs): void {
    if (this.closed) return;
    const at = Date.now() + delayMs;
    const was = this.due.get(incidentId);
    // Called after every commit of a loaded incident: already due as soon, nothing to do.
    if (was !== undefined && was <= at) return;
    this.due.set(incidentId, at);
    if (this.timerAt === undefined || at < this.timerAt) this.arm();
  }

  /** Reads every incident again (the rebuild command), one at a time. */
  async rebuild(): Promise<number> {
    let n = 0;
    for (const incident of this.o.store.listIncidents()) {
      if (this.closed) break;
      await this.index(incident.id).catch((err) => this.o.log.warn({ err, incident: incident.id }, 'search: could not index an incident'));
      n++;
      await yieldNow();
    }
    return n;
  }

  /** Waits until nothing is due (tests, the rebuild route). */
  async idle(): Promise<void> {
    while (this.due.size > 0 || this.working) {
      await (this.working ?? new Promise((r) => setTimeout(r, 20)));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.sweeper);
    this.due.clear();
    await this.working;
  }

  private arm(): void {
    if (this.working || this.closed) return;
    clearTimeout(this.timer);
    let next = Infinity;
    for (const at of this.due.values()) next = Math.min(next, at);
    this.timerAt = next;
    this.timer = setTimeout(() => {
      this.timerAt = undefined;
      this.work();
    }, Math.max(0, next - Date.now()));
    this.timer.unref();
  }

  private work(): void {
    this.working = (async () => {
      while (!this.closed) {
        const now = Date.now();
        const ready = [...this.due].filter(([, at]) => at <= now).map(([id]) => id);
        if (ready.length === 0) break;
        for (const id of ready) {
          this.due.delete(id);
          try {
            await this.index(id);
          } catch (err) {
            this.o.log.warn({ err, incident: id }, 'search: could not index an incident; trying again');
            this.schedule(id, 2000);
          }
          await yieldNow();
        }
      }
    })().finally(() => {
      this.working = undefined;
      if (this.due.size > 0) this.arm();
    });
  }

  /** Reads one incident and puts it in the index. */
  async index(incidentId: string): Promise<void> {
    const incident = this.o.store.incidentById(incidentId);
    if (!incident) return this.o.engine.remove(incidentId);
    let doc: Y.Doc;
    let seq: number;
    let loaded: Y.Doc | undefined;
    const room = this.o.rooms.loaded(incidentId);
    if (room) {
      const settled = room.settledSeq();
      // A write is under way: what the document holds is not all on disk yet.
      if (settled === undefined) return this.schedule(incidentId, 50);
      doc = room.doc;
      seq = settled;
    } else {
      // Read-only: the latest checkpoint and the records after it. Never `load()`, which is the
      // appender's (it cuts a torn tail off the embedded log, and could do so under a room that is
      // opening or appending at the same moment).
      const log = this.o.rooms.logOf(incidentId);
      const checkpoint = await log.latestCheckpoint();
      loaded = doc = new Y.Doc();
      seq = 0;
      if (checkpoint) {
        Y.applyUpdate(doc, checkpoint.doc);
        seq = checkpoint.seq;
      }
      for await (const record of log.records({ after: seq })) {
        Y.applyUpdate(doc, record.update);
        seq = record.seq;
      }
    }
    try {
      const record = searchDocsOf({
        incidentId,
        seq,
        doc,
        createdAt: incident.createdAt,
        restricted: incident.members !== undefined,
        alerts: this.o.alerts.alerts().filter((a) => a.incidents.includes(incidentId)),
        attachments: this.o.attachments.forIncident(incidentId),
      });
      await this.o.engine.put(record);
      this.indexed++;
    } finally {
      loaded?.destroy();
    }
  }

  private async sweep(): Promise<void> {
    const engine = this.o.engine as PgSearchEngine;
    // Each incident once per sweep: one that cannot be indexed now is not retried in a tight loop.
    const tried = new Set<string>();
    for (;;) {
      const stale = (await engine.stale(100 + tried.size)).filter((id) => !this.due.has(id) && !tried.has(id));
      if (stale.length === 0 || this.closed) return;
      for (const id of stale) {
        if (this.closed) return;
        tried.add(id);
        await this.index(id).catch((err) => this.o.log.warn({ err, incident: id }, 'search: could not index an incident'));
      }
    }
  }
}
