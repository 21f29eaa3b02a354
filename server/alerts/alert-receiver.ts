/**
 * Alerts arriving from monitoring: deduplicated by fingerprint, their firing/resolved transitions
 * recorded with times, attached to every open incident whose label matchers they satisfy, and
 * announced live. Responders can attach and detach by hand; a detached alert stays detached.
 *
 * Who may see an alert (`visibleTo`, used by every route, export, digest and live event): anyone who
 * can see an incident it is on; and, while it is on none (the inbox), everyone — unless it was ever on
 * a restricted incident, whose members alone then see it. So label matchers never take an alert that
 * is or was on a restricted incident, and an arriving alert that a restricted incident's matchers
 * take is taken by restricted incidents only: no one can pull a restricted incident's alerts into
 * another incident by writing broad matchers.
 */
import type { Logger } from 'pino';
import type { Alert, AlertSource, LabelMatcher } from '../../shared/alerts.js';
import { matchesAll, parseMatcher } from '../../shared/alerts.js';
import { newId } from '../../shared/schema/doc.js';
import { canSee } from '../auth/authenticate.js';
import type { AppEvents } from '../events/app-events.js';
import type { IncidentRecord, MetadataStore } from '../store/metadata.js';
import type { User } from '../../shared/model.js';
import type { AlertRecord, AlertStore, IntegrationRecord } from './alert-store.js';
import { parsePayload, type ReceivedAlert } from './payloads.js';

const iso = (ms: number) => new Date(ms).toISOString();
/** Raw payload ids kept on each alert (the raw log keeps them all). */
const RAW_IDS_KEPT = 20;

export interface ReceiveResult {
  received: number;
  created: number;
  changed: number;
  attached: number;
}

export class AlertReceiver {
  constructor(
    private readonly alerts: AlertStore,
    private readonly store: MetadataStore,
    private readonly events: AppEvents,
    private readonly log: Logger,
  ) {}

  /**
   * Changes to alerts, one at a time: each reads the stored alerts, changes them and saves them. In
   * the PostgreSQL mode reads are copies, and two webhooks changing one alert at once would each save
   * their own copy, one undoing the other; on one node this queue keeps them apart.
   */
  private queue: Promise<unknown> = Promise.resolve();
  private serially<T>(change: () => Promise<T>): Promise<T> {
    const next = this.queue.then(change, change);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Parses the whole payload first (throws PayloadError), then stores it in one durable write. */
  async receive(integration: IntegrationRecord, source: AlertSource, body: unknown): Promise<ReceiveResult> {
    const received = parsePayload(source, body);
    return this.serially(() => this.storeReceived(integration, source, body, received));
  }

  private async storeReceived(integration: IntegrationRecord, source: AlertSource, body: unknown, received: ReceivedAlert[]): Promise<ReceiveResult> {
    const receivedAt = new Date().toISOString();
    const rawId = newId();
    const kept = this.alerts.keepRaw({ id: rawId, receivedAt, integrationId: integration.id, source, payload: body });
    const result: ReceiveResult = { received: received.length, created: 0, changed: 0, attached: 0 };
    const changed = new Map<string, AlertRecord>();
    for (const incoming of received) {
      const existing = this.alerts.alertByFingerprint(source, incoming.fingerprint);
      const record = existing ? this.update(existing, incoming, receivedAt) : this.create(integration, source, incoming, receivedAt);
      if (!existing) result.created++;
      else if (record.updatedAt === receivedAt) result.changed++;
      record.rawIds = [...record.rawIds, rawId].slice(-RAW_IDS_KEPT);
      result.attached += this.attachByMatchers(record);
      changed.set(record.id, record);
    }
    // The raw payload and the alerts it changed are written at once; both are durable before the answer.
    await Promise.all([kept, this.alerts.saveAlerts([...changed.values()])]);
    for (const record of changed.values()) this.announce(record);
    this.log.info({ integration: integration.name, source, ...result }, 'alerts received');
    return result;
  }

  private create(integration: IntegrationRecord, source: AlertSource, a: ReceivedAlert, receivedAt: string): AlertRecord {
    const record: AlertRecord = {
      id: newId(),
      fingerprint: a.fingerprint,
      status: a.status,
      title: a.title,
      labels: a.labels,
      annotations: a.annotations,
      startsAt: iso(a.startsAt),
      endsAt: a.endsAt === null ? null : iso(a.endsAt),
      source,
      url: a.url,
      transitions: [{ status: 'firing', at: iso(a.startsAt), receivedAt }],
      integrationId: integration.id,
      incidents: [],
      detachedFrom: [],
      receivedAt,
      updatedAt: receivedAt,
      rawIds: [],
    };
    if (a.status === 'resolved') record.transitions.push({ status: 'resolved', at: iso(a.endsAt ?? Date.now()), receivedAt });
    return record;
  }

  private update(record: AlertRecord, a: ReceivedAlert, receivedAt: string): AlertRecord {
    const before = JSON.stringify([record.status, record.startsAt, record.endsAt, record.labels, record.annotations, record.title, record.url]);
    const refired = a.status === 'firing' && record.status === 'resolved';
    if (refired) record.transitions.push({ status: 'firing', at: iso(a.startsAt), receivedAt });
    if (a.status === 'resolved' && record.status === 'firing') record.transitions.push({ status: 'resolved', at: iso(a.endsAt ?? Date.now()), receivedAt });
    Object.assign(record, {
      status: a.status,
      title: a.title,
      labels: a.labels,
      annotations: a.annotations,
      // A re-fired alert starts anew; otherwise the first start stands (senders repeat it).
      startsAt: refired ? iso(a.startsAt) : record.startsAt,
      endsAt: a.endsAt === null ? null : iso(a.endsAt),
      url: a.url ?? record.url,
    });
    if (JSON.stringify([record.status, record.startsAt, record.endsAt, record.labels, record.annotations, record.title, record.url]) !== before) {
      record.updatedAt = receivedAt;
    }
    return record;
  }

  /**
   * Attaches the alert to every unresolved incident whose matchers it satisfies — only restricted
   * ones if any of those match — unless it is or was on a restricted incident; returns how many new.
   */
  private attachByMatchers(record: AlertRecord): number {
    if (this.restrictedIncidentsOf(record).length > 0) return 0;
    const matching = this.store.listIncidents().filter((incident) => {
      if (incident.status === 'resolved' || !incident.alertMatchers?.length) return false;
      if (record.incidents.includes(incident.id) || record.detachedFrom.includes(incident.id)) return false;
      const matchers = this.matchersOf(incident);
      return matchers !== undefined && matchesAll(matchers, record.labels);
    });
    const restricted = matching.filter((i) => i.members);
    const takers = restricted.length > 0 ? restricted : matching;
    for (const incident of takers) link(record, incident.id, true, null);
    return takers.length;
  }

  /**
   * The incident's matchers, compiled (cached by parseMatcher); undefined if one of them no longer
   * parses (stored under older rules): the rest alone would take more alerts than was asked for, so
   * the incident takes none until its matchers are fixed.
   */
  private matchersOf(incident: IncidentRecord): LabelMatcher[] | undefined {
    try {
      return (incident.alertMatchers ?? []).map(parseMatcher);
    } catch (err) {
      const key = `${incident.id}\n${incident.alertMatchers?.join('\n')}`;
      if (!this.reportedBadMatchers.has(key)) {
        this.reportedBadMatchers.add(key);
        this.log.warn({ incident: incident.id, err: (err as Error).message }, 'incident label matchers no longer valid: it takes no alerts until they are changed');
      }
      return undefined;
    }
  }
  private readonly reportedBadMatchers = new Set<string>();

  /** The restricted incidents the alert is or ever was on: only their members see it in the inbox. */
  private restrictedIncidentsOf(record: AlertRecord): IncidentRecord[] {
    const ids = new Set([...record.incidents, ...(record.links ?? []).map((l) => l.incidentId)]);
    return [...ids].map((id) => this.store.incidentById(id)).filter((i): i is IncidentRecord => !!i?.members);
  }

  /** After an incident's matchers change: attach the known alerts they match. */
  attachMatching(incident: IncidentRecord): Promise<number> {
    return this.serially(() => this.attachMatchingNow(incident));
  }

  private async attachMatchingNow(incident: IncidentRecord): Promise<number> {
    const changed = this.alerts.alerts().filter((a) => !a.incidents.includes(incident.id) && this.attachByMatchers(a) > 0);
    if (changed.length === 0) return 0;
    await this.alerts.saveAlerts(changed);
    for (const record of changed) this.announce(record);
    return changed.length;
  }

  /** Attaches the alert to the incident by hand (`byUserId`); a no-op if it is attached. */
  /** Resolves with the alert as it is now stored. */
  attach(alert: AlertRecord, incidentId: string, byUserId: string): Promise<AlertRecord> {
    return this.serially(async () => {
      const record = this.alerts.alertById(alert.id) ?? alert; // as stored now, not as the route read it
      record.detachedFrom = record.detachedFrom.filter((id) => id !== incidentId);
      if (!link(record, incidentId, true, byUserId)) return record;
      await this.alerts.saveAlerts([record]);
      this.announce(record);
      return record;
    });
  }

  /** Detaches the alert from the incident by hand; matchers do not attach it there again. */
  /** Resolves with the alert as it is now stored. */
  detach(alert: AlertRecord, incidentId: string, byUserId: string): Promise<AlertRecord> {
    return this.serially(async () => {
      const record = this.alerts.alertById(alert.id) ?? alert;
      if (!record.detachedFrom.includes(incidentId)) record.detachedFrom.push(incidentId);
      link(record, incidentId, false, byUserId);
      await this.alerts.saveAlerts([record]);
      this.announce(record);
      return record;
    });
  }

  /**
   * Whether `user` may see the alert: it is on an incident they can see, or in the inbox and never on
   * a restricted incident they cannot see (detaching an alert from one does not publish it).
   */
  visibleTo(user: User, record: AlertRecord): boolean {
    if (this.visibleIncidents(user, record).length > 0) return true;
    return record.incidents.length === 0 && this.restrictedIncidentsOf(record).every((i) => canSee(user, i));
  }

  present(user: User, record: AlertRecord): Alert {
    return presentAlert(record, this.visibleIncidents(user, record), (id) => this.canSeeIncident(user, id));
  }

  private visibleIncidents(user: User, record: AlertRecord): string[] {
    return record.incidents.filter((id) => this.canSeeIncident(user, id));
  }

  private canSeeIncident(user: User, id: string): boolean {
    const incident = this.store.incidentById(id);
    return incident !== undefined && canSee(user, incident);
  }

  /**
   * Live to each user who may see it, with only the incidents they can see. Whether and how a user
   * sees it depends only on which of its incidents they can see: users alike share one message,
   * decided by `visibleTo` and `present` for one of them.
   */
  /** `listener` hears of every alert stored changed (after it is durable), with the incidents it is or was on. */
  onChange(listener: (record: AlertRecord) => void): void {
    this.changeListeners.add(listener);
  }

  private readonly changeListeners = new Set<(record: AlertRecord) => void>();

  private announce(record: AlertRecord): void {
    for (const listener of this.changeListeners) listener(record);
    const ids = new Set([...record.incidents, ...(record.links ?? []).map((l) => l.incidentId)]);
    const incidents = [...ids].map((id) => this.store.incidentById(id)).filter((i): i is IncidentRecord => i !== undefined);
    const audiences = new Map<string, { user: User; users: string[] }>();
    for (const user of this.store.listUsers()) {
      const key = incidents.filter((i) => canSee(user, i)).map((i) => i.id).join();
      const audience = audiences.get(key);
      if (audience) audience.users.push(user.id);
      else audiences.set(key, { user, users: [user.id] });
    }
    for (const { user, users } of audiences.values()) {
      if (this.visibleTo(user, record)) this.events.alertChanged(this.present(user, record), users);
    }
  }
}

/** Whether the alert is attached to the incident now, or (with `detachedToo`) ever was. */
export function isOn(record: AlertRecord, incidentId: string, detachedToo = false): boolean {
  return record.incidents.includes(incidentId) || (detachedToo && (record.links ?? []).some((l) => l.incidentId === incidentId));
}

/**
 * The alerts ever attached to an incident, each presented for that incident alone (its link history
 * included): what a replay, a digest and an export as of a moment start from.
 */
export function alertsEverOn(records: readonly AlertRecord[], incidentId: string): Alert[] {
  const isThis = (id: string) => id === incidentId;
  return records.filter((a) => isOn(a, incidentId, true)).map((a) => presentAlert(a, a.incidents.filter(isThis), isThis));
}

/**
 * Notes an attach or detach in the alert's incidents and link history, by the server's clock; false
 * if it changes nothing (attached already, or not attached).
 */
function link(record: AlertRecord, incidentId: string, attached: boolean, by: string | null): boolean {
  if (record.incidents.includes(incidentId) === attached) return false;
  record.incidents = attached ? [...record.incidents, incidentId] : record.incidents.filter((id) => id !== incidentId);
  (record.links ??= []).push({ incidentId, attached, at: new Date().toISOString(), by });
  return true;
}

/**
 * The alert as the API presents it: `incidents` are those given (the ones the receiver may see), and
 * the link history is of the incidents `showLinksOf` allows (default: those given).
 */
export function presentAlert(record: AlertRecord, incidents: string[], showLinksOf: (incidentId: string) => boolean = (id) => incidents.includes(id)): Alert {
  return {
    id: record.id,
    fingerprint: record.fingerprint,
    status: record.status,
    title: record.title,
    labels: record.labels,
    annotations: record.annotations,
    startsAt: record.startsAt,
    endsAt: record.endsAt,
    source: record.source,
    url: record.url,
    transitions: record.transitions,
    incidents,
    links: (record.links ?? []).filter((l) => showLinksOf(l.incidentId)),
  };
}
