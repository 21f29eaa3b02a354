/**
 * The incidents whose documents are in memory. A document is loaded on first use (checkpoint + log
 * tail), shared by everyone on that incident, and unloaded a while after its last client left.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import type { IncidentLog, IncidentLogs } from '../storage/incident-log.js';
import type { ClusterBus } from '../storage/cluster-bus.js';
import { IncidentRoom, type IncidentChange } from './incident-room.js';
import type { Refusals } from './refusals.js';
import type { SyncPace } from './sync-pace.js';

export interface IncidentRoomsOptions {
  /** Where each incident's history is read and written (server/storage/storage.ts chooses). */
  logs: IncidentLogs;
  idleUnloadMs: number;
  checkpointEvery: number;
  maxMessageBytes: number;
  log: Logger;
  metrics: Metrics;
  /** Refused connections, per user (shared with the endpoint, which paces new ones). */
  refusals: Refusals;
  /** Each user's share of the time spent answering sync requests (shared by every room). */
  syncPace: SyncPace;
  /** A durable change to an incident's `meta` or `milestones` (the incident's record follows it). */
  onMetaChange: (incidentId: string, change: IncidentChange) => void;
  /** The other nodes (PostgreSQL mode): presence is shared through it. */
  bus?: ClusterBus;
}

export class IncidentRooms {
  private readonly rooms = new Map<string, IncidentRoom>();
  private readonly opening = new Map<string, Promise<IncidentRoom>>();
  private readonly closing = new Map<string, Promise<void>>();
  private readonly unloadTimers = new Map<string, NodeJS.Timeout>();
  private readonly logs: IncidentLogs;
  private readonly committedListeners = new Set<(room: IncidentRoom) => void>();

  constructor(private readonly opts: IncidentRoomsOptions) {
    this.logs = opts.logs;
  }

  /** The incident's history; its room, while loaded, is the one appending to it. */
  logOf(incidentId: string): IncidentLog {
    return this.logs.of(incidentId);
  }

  createLog(incidentId: string): Promise<IncidentLog> {
    return this.logs.create(incidentId);
  }

  /**
   * `listener` is called whenever a loaded room's document gained durable changes (this node's
   * commits, or records other nodes committed), after they went out to its clients. Followers of
   * the history (search, notifications) use it to look again soon; it must return quickly.
   */
  onCommitted(listener: (room: IncidentRoom) => void): () => void {
    this.committedListeners.add(listener);
    return () => void this.committedListeners.delete(listener);
  }

  /** The room if its document is in memory. */
  loaded(incidentId: string): IncidentRoom | undefined {
    return this.rooms.get(incidentId);
  }

  get size(): number {
    return this.rooms.size;
  }

  /** The incident's room, loading its document if needed. Unloads after idling unless joined. */
  async open(incidentId: string): Promise<IncidentRoom> {
    let room = this.rooms.get(incidentId);
    if (!room) {
      let opening = this.opening.get(incidentId);
      if (!opening) {
        opening = this.load(incidentId).finally(() => this.opening.delete(incidentId));
        this.opening.set(incidentId, opening);
      }
      room = await opening;
    }
    // The caller joins right away, or the room idles out like any other.
    if (room.connections.size === 0) this.scheduleUnload(room);
    return room;
  }

  private async load(incidentId: string): Promise<IncidentRoom> {
    await this.closing.get(incidentId);
    const started = performance.now();
    const log = this.logOf(incidentId);
    const loaded = await log.load();
    const room = new IncidentRoom(incidentId, log, loaded, {
      checkpointEvery: this.opts.checkpointEvery,
      maxMessageBytes: this.opts.maxMessageBytes,
      log: this.opts.log,
      metrics: this.opts.metrics,
      refusals: this.opts.refusals,
      syncPace: this.opts.syncPace,
      onMetaChange: (change) => this.opts.onMetaChange(incidentId, change),
      onCommitted: (r) => {
        for (const listener of this.committedListeners) {
          try {
            listener(r);
          } catch (err) {
            this.opts.log.error({ err, incident: incidentId }, 'a follower of committed changes failed');
          }
        }
      },
      onEmpty: (r) => this.scheduleUnload(r),
      onFailure: (r) => this.drop(r),
      bus: this.opts.bus,
    });
    this.rooms.set(incidentId, room);
    this.opts.metrics.loadedDocs.set(this.rooms.size);
    this.opts.log.info(
      { incident: incidentId, checkpointSeq: loaded.checkpointSeq, replayed: loaded.replayed, ms: Math.round(performance.now() - started) },
      'incident document loaded',
    );
    return room;
  }

  cancelUnload(incidentId: string): void {
    clearTimeout(this.unloadTimers.get(incidentId));
    this.unloadTimers.delete(incidentId);
  }

  private scheduleUnload(room: IncidentRoom): void {
    this.cancelUnload(room.incidentId);
    const timer = setTimeout(() => {
      this.unloadTimers.delete(room.incidentId);
      if (room.connections.size === 0) void this.unload(room);
    }, this.opts.idleUnloadMs);
    timer.unref();
    this.unloadTimers.set(room.incidentId, timer);
  }

  private unload(room: IncidentRoom, code?: number, reason?: string): Promise<void> {
    this.drop(room);
    const closing = room.close(code, reason).finally(() => this.closing.delete(room.incidentId));
    this.closing.set(room.incidentId, closing);
    return closing;
  }

  private drop(room: IncidentRoom): void {
    if (this.rooms.get(room.incidentId) === room) this.rooms.delete(room.incidentId);
    this.opts.metrics.loadedDocs.set(this.rooms.size);
  }

  /**
   * Closes every room's sockets now with `code` (the storage went away: nothing more can be
   * acknowledged); their clients keep what is unsaved and resend it when they reconnect.
   */
  closeEvery(code: number, reason: string): void {
    for (const room of [...this.rooms.values()]) {
      this.cancelUnload(room.incidentId);
      void this.unload(room, code, reason);
    }
  }

  /** Flushes and closes every room (graceful shutdown). */
  async closeAll(): Promise<void> {
    for (const timer of this.unloadTimers.values()) clearTimeout(timer);
    this.unloadTimers.clear();
    await Promise.allSettled([...this.opening.values()]);
    await Promise.all([...this.rooms.values()].map((room) => this.unload(room)));
    await Promise.all([...this.closing.values()]);
  }
}
