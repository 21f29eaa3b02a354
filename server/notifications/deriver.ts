/**
 * Follows incidents and turns what happened into messages: after a room's commit (a hint, a little
 * later so a burst of typing is looked at once), when an alert changes, and on a sweep — at start,
 * for what a crash left underived, and every `sweepMs` for changes committed on other nodes and for
 * conclusions that have become quiet. Each derivation reads the history after the incident's notified
 * state, compares (derive-events.ts), fans the events out to the destinations that want them and may
 * see the incident, and writes state and messages together (NotificationStore.derive).
 *
 * Nothing here is on the path of an update: a room only schedules a timer.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { NotificationEvent } from '../../shared/notifications.js';
import { isOn } from '../alerts/alert-receiver.js';
import type { AlertStore } from '../alerts/alert-store.js';
import type { IncidentLogs } from '../storage/incident-log.js';
import type { IncidentRecord, MetadataStore } from '../store/metadata.js';
import { deriveEvents, type DerivedEvent } from './derive-events.js';
import { FollowedIncident } from './followed-incident.js';
import type { Derivation, DestinationRecord, NotificationStore, NotifiedState } from './notification-store.js';
import { isUnavailable } from '../storage/postgres/database.js';

export interface DeriverOptions {
  store: NotificationStore;
  logs: IncidentLogs;
  metadata: MetadataStore;
  alerts: AlertStore;
  log: Logger;
  /** How users reach Bridgelog: links in messages start here. */
  publicUrl: () => string;
  /** A conclusion is told once it has not changed for this long. */
  quietMs: number;
  /** How long after a commit the incident is looked at (changes meanwhile are looked at together). */
  delayMs: number;
  sweepMs: number;
  /** One digest minute, ms (60,000; tests shorten it). */
  digestMinuteMs: number;
  /** Told when messages were written (the dispatcher looks at once). */
  onMessages: () => void;
}

/** Documents kept followed at once; each is about the size of its incident's document. */
const FOLLOWED_KEPT = 16;
const FOLLOWED_IDLE_MS = 10 * 60_000;
/** Incidents derived at once. */
const PARALLEL = 2;
/** How often a state whose only change is its seq is written. */
const SEQ_ONLY_WRITE_MS = 30_000;

export function messageId(destinationId: string, incidentId: string, key: string): string {
  return `msg_${createHash('sha256').update(`${destinationId}\n${incidentId}\n${key}`).digest('base64url').slice(0, 32)}`;
}

/** Whether a destination may be told about an incident: restricted ones only where explicitly allowed. */
export function mayReceive(destination: DestinationRecord, incident: IncidentRecord): boolean {
  return !incident.members || destination.restrictedIncidents.includes(incident.id);
}

export class NotificationDeriver {
  private readonly followed = new Map<string, FollowedIncident>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; at: number }>();
  private readonly queue = new Set<string>();
  private readonly running = new Set<string>();
  private readonly again = new Set<string>();
  /** The last state written or read per incident, to tell which alerts are news. */
  private readonly known = new Map<string, NotifiedState>();
  /** When each incident's state was last written. */
  private readonly seqWrittenAt = new Map<string, number>();
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;
  private idle: Array<() => void> = [];

  constructor(private readonly opts: DeriverOptions) {}

  start(): void {
    void this.sweep(true);
    this.sweeper = setInterval(() => void this.sweep(false), this.opts.sweepMs);
    this.sweeper.unref();
  }

  /** Looks at the incident after `delayMs`, or sooner if it is already scheduled sooner. */
  follow(incidentId: string, delayMs = this.opts.delayMs): void {
    if (this.closed) return;
    const at = Date.now() + delayMs;
    const scheduled = this.timers.get(incidentId);
    if (scheduled && scheduled.at <= at) return;
    // A later one (a conclusion's recheck) gives way to this sooner one.
    if (scheduled) clearTimeout(scheduled.timer);
    const timer = setTimeout(() => {
      this.timers.delete(incidentId);
      this.enqueue(incidentId);
    }, delayMs);
    timer.unref();
    this.timers.set(incidentId, { timer, at });
  }

  /** Resolves once nothing is scheduled or running (tests, shutdown). */
  settled(): Promise<void> {
    if (this.timers.size === 0 && this.queue.size === 0 && this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    this.queue.clear();
    while (this.running.size > 0) await new Promise((r) => setTimeout(r, 20));
    for (const f of this.followed.values()) f.destroy();
    this.followed.clear();
  }

  private enqueue(incidentId: string): void {
    if (this.closed) return;
    if (this.running.has(incidentId)) return void this.again.add(incidentId);
    this.queue.add(incidentId);
    this.pump();
  }

  private pump(): void {
    for (const id of this.queue) {
      if (this.running.size >= PARALLEL) return;
      this.queue.delete(id);
      this.running.add(id);
      void this.derive(id)
        .catch((err) => {
          this.opts.log.warn({ err, incident: id }, 'could not derive notifications; the next sweep tries again');
        })
        .finally(() => {
          this.running.delete(id);
          if (this.again.delete(id)) this.queue.add(id);
          this.pump();
          if (this.timers.size === 0 && this.queue.size === 0 && this.running.size === 0) for (const resolve of this.idle.splice(0)) resolve();
        });
    }
  }

  private async sweep(startup: boolean): Promise<void> {
    try {
      const destinations = (await this.opts.store.destinations()).filter((d) => d.enabled);
      if (destinations.length === 0) return;
      const ids = new Set<string>();
      const behind = await this.opts.store.behind();
      if (behind) for (const id of behind) ids.add(id);
      else if (startup) for (const i of this.opts.metadata.listIncidents()) ids.add(i.id);
      for (const id of await this.opts.store.rechecksDue(Date.now())) ids.add(id);
      for (const alert of this.opts.alerts.alerts()) {
        for (const id of alert.incidents) {
          const known = this.known.get(id);
          if (!known || !known.alertsLinked.includes(alert.id) || (alert.status === 'resolved' && !known.alertsResolved.includes(alert.id))) ids.add(id);
        }
      }
      for (const id of ids) this.enqueue(id);
      this.evictIdle();
    } catch (err) {
      if (isUnavailable(err)) this.opts.log.debug({ err: (err as Error).message }, 'notification sweep: PostgreSQL unavailable');
      else this.opts.log.warn({ err }, 'notification sweep failed; trying again at the next');
    }
  }

  private evictIdle(): void {
    const now = Date.now();
    for (const [id, f] of this.followed) {
      if (now - f.lastUsed > FOLLOWED_IDLE_MS && !this.running.has(id)) {
        f.destroy();
        this.followed.delete(id);
      }
    }
  }

  private followedOf(incidentId: string): FollowedIncident {
    let f = this.followed.get(incidentId);
    if (f) {
      // Most recently used last.
      this.followed.delete(incidentId);
      this.followed.set(incidentId, f);
      return f;
    }
    f = new FollowedIncident(incidentId);
    this.followed.set(incidentId, f);
    for (const [id, old] of this.followed) {
      if (this.followed.size <= FOLLOWED_KEPT) break;
      if (this.running.has(id)) continue;
      old.destroy();
      this.followed.delete(id);
    }
    return f;
  }

  private async derive(incidentId: string): Promise<void> {
    const { store, metadata, logs } = this.opts;
    const destinations = (await store.destinations()).filter((d) => d.enabled);
    // With nowhere to send, nothing to derive: a destination made later is told only of what happens after it was made.
    if (destinations.length === 0 || !metadata.incidentById(incidentId)) return;
    const log = logs.of(incidentId);
    const written = await store.derive(incidentId, async (state): Promise<Derivation | undefined> => {
      const incident = metadata.incidentById(incidentId);
      if (!incident) return undefined;
      const now = Date.now();
      const recheck = state?.recheckAt != null && state.recheckAt <= now;
      let facts;
      if (!state || recheck || (await hasRecordsAfter(log, state.seq))) {
        const followed = this.followedOf(incidentId);
        await followed.catchUp(log);
        // Another node derived further than the history this node can read yet: its turn was enough.
        if (state && followed.seq < state.seq) return undefined;
        facts = followed.facts();
      }
      const alerts = this.opts.alerts.alerts().filter((a) => isOn(a, incidentId, true));
      const out = deriveEvents({
        incident, state, facts, alerts, now,
        quietMs: this.opts.quietMs,
        person: (id) => ({ id, name: metadata.userById(id)?.name ?? id }),
        incidentUrl: (id) => `${this.opts.publicUrl()}/incidents/${encodeURIComponent(id)}`,
        entryUrl: (id, entryId) => `${this.opts.publicUrl()}/incidents/${encodeURIComponent(id)}#entry-${encodeURIComponent(entryId)}`,
      });
      if (state && out.events.length === 0 && out.tests.length === 0) {
        const same = JSON.stringify({ ...out.state, seq: 0 }) === JSON.stringify({ ...state, seq: 0 });
        // Only the seq moved (typing in observations): written now and then, not on every look —
        // deriving from an older seq again finds the same nothing.
        if (same && (out.state.seq === state.seq || now - (this.seqWrittenAt.get(incidentId) ?? 0) < SEQ_ONLY_WRITE_MS)) {
          this.known.set(incidentId, state);
          return undefined;
        }
      }
      this.seqWrittenAt.set(incidentId, now);
      return { state: out.state, ...this.fanOut(incident, destinations, out.events, out.tests, now) };
    });
    if (written) {
      this.known.set(incidentId, written.state);
      if (written.messages.length + written.digests.length > 0) this.opts.onMessages();
      if (written.state.recheckAt !== null) this.follow(incidentId, Math.max(0, written.state.recheckAt - Date.now()) + 50);
    }
  }

  private fanOut(incident: IncidentRecord, destinations: DestinationRecord[], events: DerivedEvent[], tests: DerivedEvent[], now: number): Omit<Derivation, 'state'> {
    const messages: Derivation['messages'] = [];
    const digests: Derivation['digests'] = [];
    const wants = (d: DestinationRecord, e: NotificationEvent) =>
      d.events.includes(e.type) && mayReceive(d, incident) && Date.parse(e.at) >= Date.parse(d.createdAt);
    for (const d of destinations) {
      for (const { key, event } of events) {
        if (wants(d, event)) messages.push({ id: messageId(d.id, incident.id, key), destinationId: d.id, incidentId: incident.id, event, dueAt: now });
      }
      for (const { key, event } of tests) {
        if (!wants(d, event)) continue;
        digests.push({
          id: messageId(d.id, incident.id, `digest:${key}`), destinationId: d.id, incidentId: incident.id, event,
          dueAt: now + d.digestMinutes * this.opts.digestMinuteMs,
        });
      }
    }
    return { messages, digests };
  }
}

async function hasRecordsAfter(log: ReturnType<IncidentLogs['of']>, seq: number): Promise<boolean> {
  for await (const _record of log.records({ after: seq, upTo: seq + 1 })) return true;
  return false;
}
