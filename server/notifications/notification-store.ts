/**
 * Where notifications are kept (issue #20): destinations, each incident's "notified state" (what its
 * destinations have been told about so far, up to which record of its history), and the outbox of
 * messages with their delivery log. Two implementations, one contract (test/notifications/store.*):
 * the embedded one (storage/embedded/embedded-notifications.ts, one group-committed JSON-lines file)
 * and PostgreSQL (storage/postgres/pg-notifications.ts).
 *
 * What makes nothing lost: `derive` writes an incident's new notified state and the messages derived
 * from the change in ONE durable write. Until that write, the change is still "not yet notified" in the
 * state, so a crash before it only means deriving again from the history; after it, the messages are
 * in the outbox and are sent until delivered (or failed, for an admin to retry). Message ids are
 * stable: derived from the destination, the incident and what happened, so deriving again writes the
 * same ids (`ON CONFLICT DO NOTHING`), and receivers deduplicate by them.
 */
import type {
  DeliveryAttempt, DeliveryStatus, Destination, NotificationEvent,
} from '../../shared/notifications.js';

/** A destination as stored: what the API presents (shared/notifications.ts), less what is counted, plus its secret. */
export type DestinationRecord = Omit<Destination, 'hasSecret' | 'counts'> & {
  /** The webhook's signing secret (`whsec_…`), the Matrix access token or the SMTP password. */
  secret?: string;
};

/** What an incident's destinations have been told, up to record `seq` of its history. */
export interface NotifiedState {
  seq: number;
  meta: { title?: string; severity?: string; status?: string; members?: string };
  milestones: Record<string, string>;
  /** Hypothesis id → the verdict told (`confirmed`, `ruled-out`). */
  verdicts: Record<string, string>;
  /** Entries whose conclusion was told. */
  conclusions: string[];
  /** Test entries counted into digests. */
  tests: string[];
  alertsLinked: string[];
  alertsResolved: string[];
  /** Look again by then (ms since the epoch) even if nothing is new: a conclusion waiting to be quiet. */
  recheckAt: number | null;
}

export interface MessageRecord {
  /** Stable: the webhook-id, the Matrix txnId, the email's Message-ID. */
  id: string;
  destinationId: string;
  incidentId: string;
  event: NotificationEvent;
  status: DeliveryStatus;
  /** ms since the epoch */
  createdAt: number;
  /** Start of the time it is retried for before it is failed (creation, or an admin's retry). */
  since: number;
  nextAttemptAt: number | null;
  deliveredAt: number | null;
  attempts: number;
  lastError: string | null;
  /** A tests digest: collects tests until it is due. */
  digest: boolean;
}

export interface AttemptRecord extends DeliveryAttempt {
  messageId: string;
  destinationId: string;
}

export interface NewMessage {
  id: string;
  destinationId: string;
  incidentId: string;
  event: NotificationEvent;
  dueAt: number;
}

/** One test for a destination's digest of an incident: joins the open digest, or starts one (`id`, due at `dueAt`). */
export interface DigestItem extends NewMessage {}

export interface Derivation {
  state: NotifiedState;
  messages: NewMessage[];
  digests: DigestItem[];
}

/** How an attempt ended: tried again at `nextAttemptAt`, or settled for good. */
export type Outcome =
  | { status: 'pending'; nextAttemptAt: number; error: string }
  | { status: 'delivered' }
  | { status: 'failed' | 'withheld'; error: string };

export interface DeliveryCounts {
  pending: number;
  failed: number;
  delivered: number;
}

export interface NotificationStore {
  destinations(): Promise<DestinationRecord[]>;
  destination(id: string): Promise<DestinationRecord | undefined>;
  addDestination(destination: DestinationRecord): Promise<void>;
  updateDestination(id: string, change: Partial<Omit<DestinationRecord, 'id' | 'kind' | 'secret' | 'createdAt' | 'createdBy'>>): Promise<DestinationRecord | undefined>;
  /** Removes it and the messages it still had waiting. */
  removeDestination(id: string): Promise<boolean>;
  counts(): Promise<Map<string, DeliveryCounts>>;

  /**
   * Runs `derive` on the incident's notified state, one caller at a time per incident (across nodes
   * too), and writes what it returns — the new state, its messages and digest items — in one durable
   * write. `undefined` from `derive` writes nothing.
   */
  derive(incidentId: string, derive: (state: NotifiedState | undefined) => Promise<Derivation | undefined>): Promise<Derivation | undefined>;
  /** Incidents whose history has records beyond their notified state, when the storage can tell cheaply (PostgreSQL); else undefined. */
  behind(): Promise<string[] | undefined>;
  /** Incidents whose state asked to be looked at again by `now`. */
  rechecksDue(now: number): Promise<string[]>;

  /**
   * Claims up to `limit` due messages for `owner` under a lease (no other claim takes them before
   * it runs out), oldest first, none of the `busy` destinations'.
   */
  claimDue(owner: string, options: { now: number; limit: number; leaseMs: number; busy: string[] }): Promise<MessageRecord[]>;
  /**
   * Extends `owner`'s leases on these messages to `leaseMs` from now, those it still holds; returns
   * their ids. A sender renews while it sends, so a lease can be short: a node that dies holding a
   * message keeps it from the others only that long.
   */
  renew(messageIds: string[], owner: string, leaseMs: number): Promise<string[]>;
  /** Records an attempt and its outcome, if `owner` still holds the message; releases it. */
  settle(messageId: string, owner: string, attempt: AttemptRecord, outcome: Outcome): Promise<boolean>;
  /** Makes a failed (or withheld) message due again now, with a fresh give-up window. */
  retry(messageId: string, now: number): Promise<MessageRecord | undefined>;
  message(id: string): Promise<MessageRecord | undefined>;
  /** A destination's latest messages, newest first, each with its latest attempts. */
  deliveries(destinationId: string, limit: number): Promise<Array<MessageRecord & { log: AttemptRecord[] }>>;
  close(): Promise<void>;
}

/** Attempts kept per message in the delivery log. */
export const ATTEMPTS_KEPT = 10;

/** A digest's event with one more test. */
export function withTest(event: NotificationEvent, item: NotificationEvent): NotificationEvent {
  const tests = [...(event.tests ?? []), ...(item.tests ?? [])];
  return { ...event, tests, summary: `${tests.length} new test${tests.length === 1 ? '' : 's'} logged`, at: item.at };
}
