/**
 * Where everything durable lives, chosen at start: the embedded default (files under DATA_DIR, one
 * process) or PostgreSQL (DATABASE_URL; several nodes, with Redis at REDIS_URL for fast delivery).
 * The rest of the server sees only these interfaces; docs/architecture.md draws the two side by side.
 */
import type { AccessChange } from '../auth/access-changes.js';
import type { AlertStore } from '../alerts/alert-store.js';
import type { AttachmentStore } from '../attachments/attachment-store.js';
import type { MetadataStore } from '../store/metadata.js';
import type { SeenMarks } from '../store/seen-marks.js';
import type { SearchEngine } from '../search/search-engine.js';
import type { NotificationStore } from '../notifications/notification-store.js';
import type { InviteStore } from '../auth/invite-store.js';
import type { Blobs } from './blobs.js';
import type { Jobs } from './jobs.js';
import type { ClusterBus } from './cluster-bus.js';
import { StorageUnavailable, type IncidentLogs } from './incident-log.js';
import { isUnavailable } from './postgres/database.js';

export interface Readiness {
  ok: boolean;
  /** Why not, when not. */
  reason?: string;
}

export interface Storage {
  mode: 'embedded' | 'postgres';
  logs: IncidentLogs;
  catalog: { store: MetadataStore; alerts: AlertStore; attachments: AttachmentStore; seen: SeenMarks };
  blobs: Blobs;
  /** Where the search index lives: this process's memory (embedded) or PostgreSQL, shared by the nodes. */
  search: SearchEngine;
  /** Notification destinations, each incident's notified state and the outbox (a file, or PostgreSQL). */
  notifications: NotificationStore;
  /** Invite links (a file, or PostgreSQL). */
  invites: InviteStore;
  /** Jobs shared by the nodes (capture analyses), claimed one node at a time; absent when embedded. */
  jobs?: Jobs;
  bus: ClusterBus;
  /**
   * Resolves once this node's catalog holds everything committed before the call: at once when
   * embedded; in PostgreSQL mode after the other nodes' changes have reached this node's replicas.
   * Asked on a miss only (see catalogCaughtUpWithin).
   */
  catalogCaughtUp(): Promise<void>;
  /** Whether this node can serve now (GET /readyz): storage reachable, migrations done. */
  readiness(): Readiness;
  /** Called when readiness changes (PostgreSQL lost or back). */
  onReadinessChange(listener: (readiness: Readiness) => void): void;
  /**
   * Called when another node changed who may see what (a user, their tokens or sessions, an
   * incident's members), so this node checks its open sockets again. Never called when embedded.
   */
  onRemoteAccessChange(handler: (change: AccessChange) => void): void;
  close(): Promise<void>;
}

/** Whether `err` means the storage could not be reached (answer 503, close 4503), not that it refused. */
export function isStorageUnavailable(err: unknown): boolean {
  return err instanceof StorageUnavailable || isUnavailable(err);
}

/**
 * Waits, at most `ms`, for the catalog to catch up (Storage.catalogCaughtUp): before a token, session
 * or incident this node does not know is refused, in case another node has just created it. Never
 * throws: if PostgreSQL cannot be reached, the caller answers from what it has.
 */
export async function catalogCaughtUpWithin(storage: Pick<Storage, 'catalogCaughtUp'>, ms = 3_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    storage.catalogCaughtUp().catch(() => undefined),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
}
