/**
 * The embedded NotificationStore: everything in memory, every change one line of
 * `DATA_DIR/notifications.jsonl` (group-committed and fdatasync'd before it is answered), replayed at
 * start; the last line of a destination, state or message wins. A derivation is ONE line holding the
 * incident's new state and every message it created or changed, so a crash leaves either all of it or
 * none. Rewritten without superseded lines (and without delivered messages older than a week) once
 * they outnumber the live ones. Claims are in memory: one process sends.
 */
import path from 'node:path';
import { AppendLog } from '../../store/append-log.js';
import {
  ATTEMPTS_KEPT, withTest, type AttemptRecord, type DeliveryCounts, type Derivation, type DestinationRecord, type MessageRecord,
  type NotificationStore, type NotifiedState, type Outcome,
} from '../../notifications/notification-store.js';

type Line =
  | { t: 'destination'; destination: DestinationRecord }
  | { t: 'destination-removed'; id: string }
  | { t: 'derived'; incidentId: string; state: NotifiedState; messages: HeldMessage[] }
  | { t: 'message'; message: HeldMessage }
  | { t: 'messages-removed'; ids: string[] };

interface HeldMessage extends MessageRecord {
  log: AttemptRecord[];
}

const KEEP_SETTLED_MS = 7 * 24 * 3600_000;
const SLACK_LINES = 1000;

export async function openEmbeddedNotifications(dataDir: string): Promise<NotificationStore> {
  const file = path.join(dataDir, 'notifications.jsonl');
  const lines = await AppendLog.read<Line>(file);
  const destinations = new Map<string, DestinationRecord>();
  const states = new Map<string, NotifiedState>();
  const messages = new Map<string, HeldMessage>();
  for (const line of lines) {
    if (line.t === 'destination') destinations.set(line.destination.id, line.destination);
    else if (line.t === 'destination-removed') destinations.delete(line.id);
    else if (line.t === 'derived') {
      states.set(line.incidentId, line.state);
      for (const m of line.messages) messages.set(m.id, m);
    } else if (line.t === 'message') messages.set(line.message.id, line.message);
    else for (const id of line.ids) messages.delete(id);
  }
  const out = new AppendLog(file);
  out.lines = lines.length;
  /** Claims: message id → owner and lease end. */
  const leases = new Map<string, { owner: string; until: number }>();
  /** One derivation per incident at a time. */
  const deriving = new Map<string, Promise<unknown>>();

  const live = () => destinations.size + states.size + messages.size;
  async function write(line: Line): Promise<void> {
    await out.append([line]);
    if (out.lines > 2 * live() + SLACK_LINES) await compact();
  }
  async function compact(): Promise<void> {
    const now = Date.now();
    for (const [id, m] of messages) {
      if (m.status !== 'pending' && m.status !== 'failed' && now - (m.deliveredAt ?? m.createdAt) > KEEP_SETTLED_MS) messages.delete(id);
    }
    const byIncident = new Map<string, HeldMessage[]>();
    for (const m of messages.values()) byIncident.set(m.incidentId, [...(byIncident.get(m.incidentId) ?? []), m]);
    const rewritten: Line[] = [...destinations.values()].map((destination) => ({ t: 'destination', destination }));
    for (const [incidentId, state] of states) rewritten.push({ t: 'derived', incidentId, state, messages: byIncident.get(incidentId) ?? [] });
    for (const [incidentId, list] of byIncident) if (!states.has(incidentId)) for (const message of list) rewritten.push({ t: 'message', message });
    await out.rewrite(rewritten);
  }
  const copy = <T>(v: T): T => structuredClone(v);
  const held = (id: string, owner: string, now = Date.now()) => {
    const lease = leases.get(id);
    return lease !== undefined && lease.owner === owner && lease.until >= now;
  };

  return {
    destinations: async () => [...destinations.values()].map(copy),
    destination: async (id) => copy(destinations.get(id)),
    async addDestination(destination) {
      await write({ t: 'destination', destination });
      destinations.set(destination.id, copy(destination));
    },
    async updateDestination(id, change) {
      const current = destinations.get(id);
      if (!current) return undefined;
      const next = { ...current, ...change };
      await write({ t: 'destination', destination: next });
      destinations.set(id, next);
      return copy(next);
    },
    async removeDestination(id) {
      if (!destinations.has(id)) return false;
      const waiting = [...messages.values()].filter((m) => m.destinationId === id).map((m) => m.id);
      await write({ t: 'destination-removed', id });
      if (waiting.length) await write({ t: 'messages-removed', ids: waiting });
      destinations.delete(id);
      for (const m of waiting) messages.delete(m);
      return true;
    },
    async counts() {
      const counts = new Map<string, DeliveryCounts>();
      for (const m of messages.values()) {
        const c = counts.get(m.destinationId) ?? { pending: 0, failed: 0, delivered: 0 };
        if (m.status === 'pending' || m.status === 'failed' || m.status === 'delivered') c[m.status]++;
        counts.set(m.destinationId, c);
      }
      return counts;
    },

    async derive(incidentId, derive) {
      const before = deriving.get(incidentId) ?? Promise.resolve();
      const run = before.catch(() => undefined).then(async () => {
        const result: Derivation | undefined = await derive(copy(states.get(incidentId)));
        if (!result) return undefined;
        const now = Date.now();
        const changed = new Map<string, HeldMessage>();
        for (const m of result.messages) {
          if (messages.has(m.id) || changed.has(m.id)) continue;
          changed.set(m.id, fresh(m, now, false));
        }
        for (const item of result.digests) {
          const open =
            [...changed.values()].find((m) => isOpenDigest(m, item, now)) ??
            [...messages.values()].find((m) => isOpenDigest(m, item, now) && !leases.has(m.id));
          if (open) changed.set(open.id, { ...copy(open), event: withTest(open.event, item.event) });
          else if (!messages.has(item.id) && !changed.has(item.id)) changed.set(item.id, fresh(item, now, true));
        }
        await write({ t: 'derived', incidentId, state: result.state, messages: [...changed.values()] });
        states.set(incidentId, copy(result.state));
        for (const m of changed.values()) messages.set(m.id, m);
        return result;
      });
      deriving.set(incidentId, run);
      try {
        return await run;
      } finally {
        if (deriving.get(incidentId) === run) deriving.delete(incidentId);
      }
    },
    behind: async () => undefined,
    async rechecksDue(now) {
      return [...states].filter(([, s]) => s.recheckAt !== null && s.recheckAt <= now).map(([id]) => id);
    },

    async claimDue(owner, { now, limit, leaseMs, busy }) {
      const skip = new Set(busy);
      const due = [...messages.values()]
        .filter((m) => m.status === 'pending' && m.nextAttemptAt !== null && m.nextAttemptAt <= now && !skip.has(m.destinationId))
        .filter((m) => (leases.get(m.id)?.until ?? 0) < now)
        .sort((a, b) => a.nextAttemptAt! - b.nextAttemptAt! || a.createdAt - b.createdAt);
      const claimed: MessageRecord[] = [];
      for (const m of due) {
        if (claimed.length >= limit) break;
        if (claimed.some((c) => c.destinationId === m.destinationId)) continue;
        leases.set(m.id, { owner, until: now + leaseMs });
        claimed.push(record(m));
      }
      return claimed;
    },
    async renew(messageIds, owner, leaseMs) {
      const now = Date.now();
      const renewed = messageIds.filter((id) => held(id, owner, now));
      for (const id of renewed) leases.set(id, { owner, until: now + leaseMs });
      return renewed;
    },
    async settle(messageId, owner, attempt, outcome) {
      const m = messages.get(messageId);
      if (!m || !held(messageId, owner)) return false;
      const next: HeldMessage = { ...copy(m), ...settled(m, attempt, outcome), log: [attempt, ...m.log].slice(0, ATTEMPTS_KEPT) };
      await write({ t: 'message', message: next });
      messages.set(messageId, next);
      leases.delete(messageId);
      return true;
    },
    async retry(messageId, now) {
      const m = messages.get(messageId);
      if (!m) return undefined;
      if (m.status !== 'failed' && m.status !== 'withheld') return record(m);
      const next: HeldMessage = { ...copy(m), status: 'pending', since: now, nextAttemptAt: now, lastError: m.lastError };
      await write({ t: 'message', message: next });
      messages.set(messageId, next);
      return record(next);
    },
    message: async (id) => {
      const m = messages.get(id);
      return m && record(m);
    },
    async deliveries(destinationId, limit) {
      return [...messages.values()]
        .filter((m) => m.destinationId === destinationId)
        .sort((a, b) => b.createdAt - a.createdAt || b.id.localeCompare(a.id))
        .slice(0, limit)
        .map(copy);
    },
    close: () => out.close(),
  };
}

function fresh(m: { id: string; destinationId: string; incidentId: string; event: MessageRecord['event']; dueAt: number }, now: number, digest: boolean): HeldMessage {
  return {
    id: m.id, destinationId: m.destinationId, incidentId: m.incidentId, event: m.event, status: 'pending',
    createdAt: now, since: now, nextAttemptAt: m.dueAt, deliveredAt: null, attempts: 0, lastError: null, digest, log: [],
  };
}

const isOpenDigest = (m: HeldMessage, item: { destinationId: string; incidentId: string }, now: number) =>
  m.digest && m.status === 'pending' && m.attempts === 0 && m.destinationId === item.destinationId && m.incidentId === item.incidentId && (m.nextAttemptAt ?? 0) > now;

function record(m: HeldMessage): MessageRecord {
  const { log: _log, ...rest } = m;
  return structuredClone(rest);
}

/** The message's fields after an attempt ended with `outcome`. */
export function settled(m: MessageRecord, attempt: AttemptRecord, outcome: Outcome): Partial<MessageRecord> {
  const attempts = m.attempts + 1;
  switch (outcome.status) {
    case 'pending':
      return { attempts, nextAttemptAt: outcome.nextAttemptAt, lastError: outcome.error };
    case 'delivered':
      return { attempts, status: 'delivered', nextAttemptAt: null, deliveredAt: Date.parse(attempt.at), lastError: null };
    default:
      return { attempts, status: outcome.status, nextAttemptAt: null, lastError: outcome.error };
  }
}
