/**
 * One incident's live document and the clients on it. An update flows through here in one direction:
 *
 *   frame → parse & check (protocol.ts, attribution.ts) → apply to the doc → append to the log
 *         → durable (the incident's log: server/storage/) → broadcast to the others + tell the sender it is durable
 *
 * Nothing leaves this room before it is on disk: broadcasts, sync replies and "persisted" (type 100)
 * acknowledgements all wait for the group commit that covers them.
 */
import * as Y from 'yjs';
import * as awarenessProtocol from 'y-protocols/awareness';
import type { Logger } from 'pino';
import { CloseCode } from '../../shared/protocol.js';
import { metaOf, readMeta, type Meta } from '../../shared/schema/doc.js';
import { milestonesOf, readMilestones } from '../../shared/schema/milestones.js';
import { ClientBindings, inspectUpdate } from '../history/attribution.js';
import {
  StorageUnavailable, type DurableEvent, type IncidentAppender, type IncidentLog, type LoadedIncident, type RemoteRecords,
} from '../storage/incident-log.js';
import type { Metrics } from '../metrics.js';
import { reasonLabel } from '../metrics.js';
import { Broadcast, Connection } from './connection.js';
import * as protocol from './protocol.js';
import { PresenceGuard, PresenceLimits } from './presence.js';
import { ClusterPresence, REMOTE_PRESENCE } from './cluster-presence.js';
import type { ClusterBus } from '../storage/cluster-bus.js';
import type { Refusals } from './refusals.js';
import type { SyncPace } from './sync-pace.js';
import { checkUpdateSchema } from './update-schema.js';

type SyncRequest = Extract<protocol.Incoming, { type: 'sync-step1' }>;

/** Origin of a change the server makes on a user's behalf (e.g. a status set through the HTTP API). */
export class ServerChange {
  constructor(readonly userId: string) {}
}

/**
 * A durable change to the incident's `meta` or `milestones` map, for the incident's record to follow
 * (`followIncidentChange` in incidents/incident-commands.ts): the maps as they are now, who made the
 * change, and whether it touched the status or the `resolved` milestone (which are kept in step).
 */
export interface IncidentChange {
  meta: Meta;
  milestones: Record<string, string>;
  author: string;
  statusChanged: boolean;
  resolvedChanged: boolean;
}

/** Origin of records another node committed (PostgreSQL mode): already durable, not logged again. */
const REMOTE = Symbol('remote');

export interface RoomOptions {
  checkpointEvery: number;
  maxMessageBytes: number;
  log: Logger;
  metrics: Metrics;
  /** Where refused connections are logged and counted against their user (shared by every room). */
  refusals: Refusals;
  /** Each user's share of the time spent answering sync requests (shared by every room). */
  syncPace: SyncPace;
  /** Called, once durable, after a change to the document's `meta` or `milestones` map. */
  onMetaChange: (change: IncidentChange) => void;
  /** Called after changes became durable (this node's commits) or arrived from other nodes (already durable). */
  onCommitted?: (room: IncidentRoom) => void;
  /** Called when the last connection has left. */
  onEmpty: (room: IncidentRoom) => void;
  /** Called if the log fails: the room has closed all connections and must be dropped. */
  onFailure: (room: IncidentRoom) => void;
  /** The other nodes (PostgreSQL mode): presence is shared through it. */
  bus?: ClusterBus;
}

export class IncidentRoom {
  readonly doc: Y.Doc;
  readonly awareness: awarenessProtocol.Awareness;
  readonly connections = new Set<Connection>();
  private readonly bindings: ClientBindings;
  private readonly presence: PresenceGuard;
  /** Presence of users on other nodes (PostgreSQL mode with Redis). */
  private readonly clusterPresence: ClusterPresence | undefined;
  private readonly updateLog: IncidentAppender;
  /** What is on disk, per client ID: sent as message type 100. */
  private durableStateVector: Map<number, number>;
  /** Work waiting for a seq to be durable, in seq order. */
  private deferred: Array<{ seq: number; run: () => void }> = [];
  /** Connections owed a "persisted" message once `seq` is durable. */
  private acks = new Map<Connection, number>();
  /** Updates made durable by the commit being handled, to send together once it is (flushOutgoing). */
  private outgoing: Array<{ broadcast: Broadcast; origin: unknown }> = [];
  /**
   * The whole document as a sync step 2, framed, for joiners who have none of it (a fresh browser):
   * encoded once and shared by everyone who joins before the next change, instead of once each — when
   * a page brings a whole team in at once, that is the bulk of the server's work. Dropped on any
   * change, and a second after it was made (it is as big as the document).
   */
  private fullState: Broadcast | undefined;
  private checkpointSeq: number;
  private checkpointing = false;
  /** What the transaction being applied did to `meta` and `milestones` (set by their observers). */
  private metaChanged = false;
  private statusChanged = false;
  private resolvedChanged = false;
  private closed = false;
  /** The client IDs of the update being applied, claimed for its author when it is logged. */
  private claiming: Iterable<number> | undefined;

  constructor(
    readonly incidentId: string,
    private readonly history: IncidentLog,
    loaded: LoadedIncident,
    private readonly opts: RoomOptions,
  ) {
    this.doc = loaded.doc;
    this.bindings = loaded.bindings;
    this.checkpointSeq = loaded.checkpointSeq;
    this.durableStateVector = Y.decodeStateVector(Y.encodeStateVector(this.doc));
    this.updateLog = history.startAppending({ onDurable: this.onDurable, onFailure: this.onLogFailure, onRemote: this.onRemote });
    this.awareness = new awarenessProtocol.Awareness(this.doc);
    this.presence = new PresenceGuard(this.bindings, (conn, entries) => this.applyAwareness(conn, entries));
    this.awareness.setLocalState(null);
    this.awareness.on('update', this.onAwarenessChange);
    this.clusterPresence = opts.bus
      ? new ClusterPresence(incidentId, this.awareness, opts.bus, () => [...this.connections].flatMap((c) => [...c.awarenessIds]))
      : undefined;
    metaOf(this.doc).observe((event) => {
      this.metaChanged = true;
      if (event.keysChanged.has('status')) this.statusChanged = true;
    });
    milestonesOf(this.doc).observe((event) => {
      this.metaChanged = true;
      if (event.keysChanged.has('resolved')) this.resolvedChanged = true;
    });
    this.doc.on('update', this.onDocUpdate);
  }

  /** The last record of the history the document holds: readers of the live history read up to here. */
  get lastSeq(): number {
    return this.updateLog.historySeq;
  }

  /** The seq the document is exactly the state after (everything applied is durable); undefined while a write is under way. */
  settledSeq(): number | undefined {
    return this.updateLog.settled()?.seq;
  }

  join(conn: Connection): void {
    this.connections.add(conn);
    conn.send(protocol.encodeSyncStep1(Y.encodeStateVector(this.doc)));
    const states = this.awareness.getStates();
    if (states.size > 0) {
      conn.send(protocol.encodeAwareness(awarenessProtocol.encodeAwarenessUpdate(this.awareness, [...states.keys()])));
    }
  }

  /** Whether `userId` has a connection here. */
  hasUser(userId: string): boolean {
    for (const conn of this.connections) if (conn.user.id === userId) return true;
    return false;
  }

  leave(conn: Connection): void {
    if (!this.connections.delete(conn)) return;
    this.acks.delete(conn);
    this.presence.leave(conn);
    awarenessProtocol.removeAwarenessStates(this.awareness, [...conn.awarenessIds], null);
    if (this.connections.size === 0) this.opts.onEmpty(this);
  }

  /** Handles one frame; a bad one closes that connection with a named code and changes nothing. */
  receive(conn: Connection, data: Uint8Array): void {
    if (!conn.open) return; // closed by the server (e.g. its access was revoked): nothing more from it
    try {
      const message = protocol.parseMessage(data, this.opts.maxMessageBytes);
      switch (message.type) {
        case 'sync-step1':
          return this.requestSync(conn, message);
        case 'update':
          return this.receiveUpdate(conn, message.update);
        case 'awareness':
          return this.receiveAwareness(conn, message.update);
        case 'query-awareness':
          return conn.send(protocol.encodeAwareness(awarenessProtocol.encodeAwarenessUpdate(this.awareness, [...this.awareness.getStates().keys()])));
        case 'auth':
          return;
      }
    } catch (err) {
      this.refuse(conn, err);
    }
  }

  /** Closes `conn` with a named code for what it sent, and counts that against its user. */
  private refuse(conn: Connection, err: unknown): void {
    const error = err instanceof protocol.ProtocolError ? err : new protocol.ProtocolError(CloseCode.malformed, 'unprocessable message');
    if (!(err instanceof protocol.ProtocolError)) conn.log.warn({ err }, 'unexpected error handling a message');
    this.opts.metrics.rejected.inc({ reason: reasonLabel(error.reason) });
    this.opts.refusals.refused(conn.log, conn.user.id, { user: conn.user.name, incident: this.incidentId, code: error.code, reason: error.reason });
    conn.close(error.code, error.reason);
    this.leave(conn);
  }

  /** Applies a change made by the server on behalf of `userId`, attributed and logged like any other. */
  applyServerChange(userId: string, change: (doc: Y.Doc) => void): Promise<void> {
    const ownClientId = this.doc.clientID;
    let clientId: number;
    do clientId = Math.floor(Math.random() * 0xffffffff);
    while (this.bindings.ownerOf(clientId) !== undefined);
    this.bindings.bind([clientId], userId);
    this.doc.clientID = clientId;
    this.claiming = [clientId];
    try {
      this.doc.transact(() => change(this.doc), new ServerChange(userId));
    } finally {
      this.doc.clientID = ownClientId;
      this.claiming = undefined;
    }
    return this.updateLog.whenDurable();
  }

  /** Closes every connection, writes a checkpoint and closes the log. */
  async close(code: number = CloseCode.goingAway, reason = 'server going away'): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clusterPresence?.close();
    for (const conn of this.connections) conn.close(code, reason);
    this.connections.clear();
    this.awareness.destroy();
    await this.updateLog.whenDurable().catch(() => undefined);
    if ((this.updateLog.settled()?.seq ?? 0) > this.checkpointSeq) await this.checkpoint().catch((err) => this.opts.log.error({ err }, 'checkpoint failed'));
    await this.updateLog.close();
    this.doc.destroy();
  }

  /** Answers a sync request now, or once its user's allowance has refilled (sync-pace.ts). */
  private requestSync(conn: Connection, request: SyncRequest): void {
    const pace = this.opts.syncPace;
    const waitMs = pace.waitMs(conn.user.id);
    if (waitMs === 0) return this.replySyncStep2(conn, request);
    if (conn.waitingSyncs >= pace.options.maxWaiting) throw new protocol.ProtocolError(CloseCode.tooManyRequests, 'too many sync requests');
    conn.waitingSyncs++;
    setTimeout(() => {
      conn.waitingSyncs--;
      if (this.closed || !this.connections.has(conn)) return;
      try {
        this.requestSync(conn, request);
      } catch (err) {
        this.refuse(conn, err);
      }
    }, waitMs).unref();
  }

  private replySyncStep2(conn: Connection, { stateVector, empty }: SyncRequest): void {
    // Encoded now, sent once everything it may contain is durable. The time it took is the asker's.
    const started = performance.now();
    const frame = empty ? this.wholeState() : protocol.encodeSyncStep2(Y.encodeStateAsUpdate(this.doc, stateVector));
    this.opts.syncPace.charge(conn.user.id, performance.now() - started);
    this.afterDurable(this.updateLog.appendedSeq, () => {
      conn.send(frame);
      this.ack(conn);
    });
  }

  private wholeState(): Broadcast {
    if (this.fullState) return this.fullState;
    const encoded = Broadcast.of(protocol.encodeSyncStep2(Y.encodeStateAsUpdate(this.doc)));
    this.fullState = encoded;
    setTimeout(() => this.fullState === encoded && (this.fullState = undefined), 1000).unref();
    return encoded;
  }

  private receiveUpdate(conn: Connection, update: Uint8Array): void {
    let contents;
    try {
      contents = inspectUpdate(update);
    } catch {
      throw new protocol.ProtocolError(CloseCode.malformed, 'undecodable update');
    }
    if (!contents.empty) {
      if (!conn.canWrite) throw new protocol.ProtocolError(CloseCode.forbidden, 'read-only: viewers cannot edit');
      const foreign = this.presence.foreignClient(contents.clients, conn.user.id);
      if (foreign !== undefined) throw new protocol.ProtocolError(CloseCode.forbidden, `client id ${foreign} belongs to another user`);
      checkUpdateSchema(this.doc, contents.decoded);
      this.applyClientUpdate(conn, update, contents.clients);
    }
    this.ack(conn);
  }

  /**
   * Applies what of a client's update can be integrated now, and binds to the user only the client IDs
   * that got into the document (so into the log). The rest — structs after a clock gap, deletions of
   * unknown items — is dropped rather than left pending in the document: pending structs would be
   * integrated later by someone else's update, logged under that user's name, and could fill in another
   * user's client ID ahead of them. An honest client loses nothing: the server's durable state vector
   * (message 100) never includes the dropped part, and its sync step 2 carries it again with what it
   * depends on.
   */
  private applyClientUpdate(conn: Connection, update: Uint8Array, clients: Set<number>): void {
    const store = this.doc.store;
    // Pending parts can only be there after loading a log with a damaged record: leave those to Yjs.
    const hadPending = store.pendingStructs !== null || store.pendingDs !== null;
    // Only client IDs nobody owns yet need binding: usually none (a typist's ID is bound since their first edit).
    let fresh: Array<{ client: number; clock: number }> | undefined;
    for (const client of clients) if (this.bindings.ownerOf(client) === undefined) (fresh ??= []).push({ client, clock: Y.getState(store, client) });
    this.claiming = clients;
    try {
      Y.applyUpdate(this.doc, update, conn);
    } finally {
      this.claiming = undefined;
    }
    if (!hadPending && (store.pendingStructs !== null || store.pendingDs !== null)) {
      store.pendingStructs = null;
      store.pendingDs = null;
      this.opts.metrics.rejected.inc({ reason: 'depends on missing changes' });
      conn.log.debug({ incident: this.incidentId }, 'dropped the part of an update that depends on changes the server does not have');
    }
    if (fresh) this.bindings.bind(fresh.filter((f) => Y.getState(store, f.client) > f.clock).map((f) => f.client), conn.user.id);
  }

  private receiveAwareness(conn: Connection, update: Uint8Array): void {
    this.presence.receive(conn, protocol.decodeAwareness(update, PresenceLimits.maxStateBytes));
  }

  private applyAwareness(conn: Connection, received: protocol.AwarenessEntry[]): void {
    if (!this.connections.has(conn)) return;
    // Presence says who is here: the name comes from authentication, not from the client.
    const entries = received.map((entry) => {
      if (entry.state === null || typeof entry.state !== 'object') return entry;
      const claimed = (entry.state as { user?: unknown }).user;
      const user = { ...(typeof claimed === 'object' && claimed !== null ? claimed : {}), id: conn.user.id, name: conn.user.name };
      return { ...entry, state: { ...entry.state, user } };
    });
    awarenessProtocol.applyAwarenessUpdate(this.awareness, protocol.encodeAwarenessEntries(entries), conn);
  }

  private onAwarenessChange = ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown): void => {
    const changed = [...added, ...updated, ...removed];
    if (origin !== REMOTE_PRESENCE) this.clusterPresence?.publish(changed);
    const frame = Broadcast.of(protocol.encodeAwareness(awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed)));
    for (const conn of this.connections) conn.send(frame);
  };

  private onDocUpdate = (update: Uint8Array, origin: unknown, _doc: Y.Doc, transaction: Y.Transaction): void => {
    this.fullState = undefined;
    if (origin === 'load') return;
    const broadcast = Broadcast.of(protocol.encodeUpdate(update));
    if (origin === REMOTE) {
      // Durable already; sent once everything this node applied before it is durable too, so the
      // state vector acknowledged never runs ahead of what is stored.
      const stateAfter = transaction.afterState;
      this.metaChanged = this.statusChanged = this.resolvedChanged = false; // the node that wrote it keeps the incident's record up to date
      this.afterDurable(this.updateLog.appendedSeq, () => {
        this.durableStateVector = stateAfter;
        this.outgoing.push({ broadcast, origin });
      });
      return;
    }
    const author = origin instanceof Connection ? origin.user.id : origin instanceof ServerChange ? origin.userId : undefined;
    if (author === undefined) throw new Error('document changed by an unattributed origin');
    const record = this.updateLog.append(author, update, this.claiming);
    this.opts.metrics.updates.inc();
    // Every transaction's update is logged in order, so once this one is on disk, so is the document
    // as it stood after it: the state vector Yjs computed for the transaction is what is durable then.
    const stateAfter = transaction.afterState;
    const { metaChanged, statusChanged, resolvedChanged } = this;
    this.metaChanged = this.statusChanged = this.resolvedChanged = false;
    this.afterDurable(record.seq, () => {
      this.durableStateVector = stateAfter;
      this.outgoing.push({ broadcast, origin });
      if (metaChanged) this.opts.onMetaChange({ meta: readMeta(this.doc), milestones: readMilestones(this.doc), author, statusChanged, resolvedChanged });
    });
  };

  private ack(conn: Connection): void {
    const seq = this.updateLog.appendedSeq;
    if (seq <= this.updateLog.durableSeq) conn.send(protocol.encodePersisted(Y.encodeStateVector(this.durableStateVector)));
    else this.acks.set(conn, seq);
  }

  private afterDurable(seq: number, run: () => void): void {
    if (seq > this.updateLog.durableSeq) return void this.deferred.push({ seq, run });
    run();
    this.flushOutgoing();
  }

  private onDurable = ({ upToSeq, syncMs }: DurableEvent): void => {
    this.opts.metrics.fdatasync.observe(syncMs / 1000);
    let done = 0;
    while (done < this.deferred.length && this.deferred[done]!.seq <= upToSeq) this.deferred[done++]!.run();
    this.deferred.splice(0, done);
    this.flushOutgoing();
    let persisted: Uint8Array | undefined;
    for (const [conn, seq] of this.acks) {
      if (seq > upToSeq) continue;
      persisted ??= protocol.encodePersisted(Y.encodeStateVector(this.durableStateVector));
      conn.send(persisted);
      this.acks.delete(conn);
    }
    this.maybeCheckpoint();
    this.opts.onCommitted?.(this);
  };

  /**
   * Sends the updates one commit made durable, joined: one write per reader for the whole commit,
   * not one per update (50 writers and 500 readers: ~100 updates a commit, 500 writes instead of
   * 50,000). Each connection gets every update but its own, in log order.
   */
  private flushOutgoing(): void {
    const out = this.outgoing;
    if (out.length === 0) return;
    this.outgoing = [];
    const all = Broadcast.join(out.map((o) => o.broadcast));
    const origins = new Set(out.map((o) => o.origin));
    for (const conn of this.connections) {
      if (!origins.has(conn)) conn.send(all);
      else {
        const others = out.filter((o) => o.origin !== conn);
        if (others.length > 0) conn.send(Broadcast.join(others.map((o) => o.broadcast)));
      }
    }
  }

  /** Records other nodes committed: applied as durable, bound to their authors, forwarded. */
  private onRemote = ({ records }: RemoteRecords): void => {
    if (this.closed) return;
    for (const record of records) {
      this.bindings.bind(record.claims, record.userId);
      Y.applyUpdate(this.doc, record.update, REMOTE);
    }
    this.maybeCheckpoint();
    if (records.length > 0) this.opts.onCommitted?.(this);
  };

  private onLogFailure = (err: Error): void => {
    const unavailable = err instanceof StorageUnavailable;
    this.opts.log.error({ err, incident: this.incidentId }, 'update log failed; closing the incident so clients keep their unsaved changes');
    const [code, reason] = unavailable ? [CloseCode.storageUnavailable, 'storage unavailable'] : [CloseCode.internalError, 'storage failure'];
    for (const conn of this.connections) conn.close(code, reason);
    this.connections.clear();
    this.opts.onFailure(this);
  };

  private maybeCheckpoint(): void {
    if (this.checkpointing || this.closed) return;
    const settled = this.updateLog.settled();
    if (!settled || settled.seq - this.checkpointSeq < this.opts.checkpointEvery) return;
    this.checkpoint().catch((err) => this.opts.log.error({ err, incident: this.incidentId }, 'checkpoint failed'));
  }

  /** Snapshots the document now, if it is exactly the history up to a seq (everything applied is durable). */
  private async checkpoint(): Promise<void> {
    const settled = this.updateLog.settled();
    if (!settled) return;
    this.checkpointing = true;
    const { seq, at } = settled;
    try {
      await this.history.writeCheckpoint({
        seq,
        at,
        bindings: new Map(this.bindings.byClient),
        doc: Y.encodeStateAsUpdate(this.doc),
      });
      this.checkpointSeq = seq;
    } finally {
      this.checkpointing = false;
    }
  }
}
