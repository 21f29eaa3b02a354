/**
 * The seam an incident's history is read and written through (issue #15): records numbered by a
 * sequence number, never by where they lie. The embedded implementation keeps today's files
 * (server/storage/embedded/); a PostgreSQL one keeps the same records in a table read by
 * `seq > $after ORDER BY seq`. Every reader names a point of the history by seq: "everything the
 * live document holds" is `upTo: appender.historySeq` (a room's `lastSeq`).
 *
 * An appender counts its own appends 1, 2, 3… (`appendedSeq`, `durableSeq`): the order in which its
 * room must wait for them. In the embedded log these are the log's seqs; in PostgreSQL, where other
 * nodes append to the same incident, the log's seqs are given at COMMIT and other nodes' records
 * reach the room through `onRemote`.
 */
import type * as Y from 'yjs';
import type { LogDamage } from '../../shared/log-damage.js';
import type { ClientBindings } from '../history/attribution.js';

/** One accepted update, as the history keeps it. */
export interface LogRecord {
  seq: number;
  /** Server receive time, ms since the epoch (UTC); never goes backwards along the seqs. */
  at: number;
  userId: string;
  update: Uint8Array;
}

/** The document as it was after record `seq`, so loading does not replay the whole history. */
export interface IncidentCheckpoint {
  seq: number;
  /** Receive time of record `seq` (ms, UTC). */
  at: number;
  /** Y.encodeStateAsUpdate of the document after `seq`. */
  doc: Uint8Array;
  /** clientID → user, as bound up to `seq`. */
  bindings: Map<number, string>;
}

export interface LoadedIncident {
  doc: Y.Doc;
  bindings: ClientBindings;
  /** Seq of the checkpoint used (0: none). */
  checkpointSeq: number;
  /** Records applied on top of it. */
  replayed: number;
}

export interface DurableEvent {
  /** Every record with seq ≤ upToSeq is durable. */
  upToSeq: number;
  /** How long making them durable took, ms. */
  syncMs: number;
}

/** Records other nodes committed, in seq order with nothing missing, each with the client IDs it claimed. */
export interface RemoteRecords {
  records: Array<LogRecord & { claims: number[] }>;
}

export interface AppendListener {
  /** After each group of this appender's records is made durable, in append order. */
  onDurable: (event: DurableEvent) => void;
  /**
   * Once, if a write fails or its outcome is unknown: nothing after that point may be acknowledged,
   * appending has stopped. A StorageUnavailable says the storage could not be reached.
   */
  onFailure: (err: Error) => void;
  /** Records other writers of the same incident committed (never called by the embedded log). */
  onRemote?: (remote: RemoteRecords) => void;
}

/** Where an incident's new records go: one appender per incident at a time, its room's. */
export interface IncidentAppender {
  /**
   * Queues a record with the next position; durable once `onDurable` reports it. Never reorders.
   * Synchronous: the hot path. `claims`: the client IDs whose structs the update creates, all the
   * user's (a store shared by several nodes checks, at commit, that no other user owns one).
   */
  append(userId: string, update: Uint8Array, claims?: Iterable<number>): LogRecord;
  /** Resolves once every record up to `seq` (default: the last appended) is durable. */
  whenDurable(seq?: number): Promise<void>;
  readonly appendedSeq: number;
  readonly durableSeq: number;
  /** Receive time of the last appended record (ms, UTC); once durable, the time the log gave it. */
  readonly lastAt: number;
  /** The log's seq up to which the appender's document holds every record: where live reads stop. */
  readonly historySeq: number;
  /**
   * The log's seq and receive time of which the document is now exactly the state (all of this
   * appender's records durable, nothing of its own beyond): a checkpoint may be written there.
   */
  settled(): { seq: number; at: number } | undefined;
  /** Waits for what is queued, then stops appending. */
  close(): Promise<void>;
}

export interface IncidentLog {
  readonly incidentId: string;
  /** The document: the latest usable checkpoint and every record after it. */
  load(): Promise<LoadedIncident>;
  /** After `load`, takes the incident's appends, seqs continuing from the last record loaded. */
  startAppending(listener: AppendListener): IncidentAppender;
  /**
   * Records with `after` < seq ≤ `upTo`, in seq order. Never past what is durable: while appending,
   * `upTo` is at most the appender's `durableSeq`. A seq may be missing where the log lost a record
   * to damage (`damage`).
   */
  records(range?: { after?: number; upTo?: number }): AsyncIterable<LogRecord>;
  /** The latest usable checkpoint, if any. */
  latestCheckpoint(): Promise<IncidentCheckpoint | undefined>;
  /** Only for a seq that is durable, and only ever of the whole document after it. */
  writeCheckpoint(checkpoint: IncidentCheckpoint): Promise<void>;
  /** Records lost to damaged storage, when the implementation can lose any and has found some. */
  damage(): Promise<LogDamage | undefined>;
}

/** A history whose records do not follow each other (a seq out of order): nothing is served from it. */
export class HistoryCorruptError extends Error {}

/** The storage cannot be reached now (PostgreSQL down): try again later; nothing was acknowledged. */
export class StorageUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A client ID the update uses belongs to another user (found at commit, when another node bound it first). */
export class ClientIdTaken extends Error {}

/** Every incident's log. */
export interface IncidentLogs {
  of(incidentId: string): IncidentLog;
  /** Makes room for a new incident's history. */
  create(incidentId: string): Promise<IncidentLog>;
}
