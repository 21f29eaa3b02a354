/**
 * Alerts arriving from monitoring: deduplicated by fingerprint, their firing/resolved transitions
 * recorded with times, attached to every open incident whose label matchers they satisfy, and
 * announced live. Responders can attach and detach by hand; a detached alert stays detached.
 */
import type { Logger } from 'pino';
import type { Alert, AlertSource } from '../../shared/alerts.js';
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

  /** Parses the whole payload first (throws PayloadError), then stores it in one durable write. */
  async receive(integration: IntegrationRecord, source: AlertSource, body: unknown): Promise<ReceiveResult> {
    const received = parsePayload(source, body);
    const receivedAt = new Date().toISOString();
    const rawId = newId();
    this.alerts.keepRaw({ id: rawId, receivedAt, integrationId: integration.id, source, payload: body });
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
    await this.alerts.saveAlerts([...changed.values()]);
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

  /** Attaches the alert to every open incident whose matchers it satisfies; returns how many new. */
  private attachByMatchers(record: AlertRecord): number {
    let attached = 0;
    for (const incident of this.store.listIncidents()) {
      if (incident.status === 'resolved' || !incident.alertMatchers?.length) continue;
      if (record.incidents.includes(incident.id) || record.detachedFrom.includes(incident.id)) continue;
      if (matchesAll(incident.alertMatchers.map(parseMatcher), record.labels)) {
        link(record, incident.id, true, null);
        attached++;
      }
    }
    return attached;
  }

  /** After an incident's matchers change: attach the known alerts they match. */
  async attachMatching(incident: IncidentRecord): Promise<number> {
    const changed = this.alerts.alerts().filter((a) => !a.incidents.includes(incident.id) && this.attachByMatchers(a) > 0);
    if (changed.length === 0) return 0;
    await this.alerts.saveAlerts(changed);
    for (const record of changed) this.announce(record);
    return changed.length;
  }

  /** Attaches the alert to the incident by hand (`byUserId`); a no-op if it is attached. */
  async attach(record: AlertRecord, incidentId: string, byUserId: string): Promise<void> {
    record.detachedFrom = record.detachedFrom.filter((id) => id !== incidentId);
    if (!link(record, incidentId, true, byUserId)) return;
    await this.alerts.saveAlerts([record]);
    this.announce(record);
  }

  /** Detaches the alert from the incident by hand; matchers do not attach it there again. */
  async detach(record: AlertRecord, incidentId: string, byUserId: string): Promise<void> {
    if (!record.detachedFrom.includes(incidentId)) record.detachedFrom.push(incidentId);
    link(record, incidentId, false, byUserId);
    await this.alerts.saveAlerts([record]);
    this.announce(record);
  }

  /** Whether `user` may see the alert: it is in the inbox, or on an incident they can see. */
  visibleTo(user: User, record: AlertRecord): boolean {
    return record.incidents.length === 0 || this.visibleIncidents(user, record).length > 0;
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

  /** Live to everyone who may see it, each with only the incidents they can see. */
  private announce(record: AlertRecord): void {
    const incidents = record.incidents.map((id) => this.store.incidentById(id)).filter((i): i is IncidentRecord => i !== undefined);
    const open = incidents.filter((i) => !i.members).map((i) => i.id);
    const isOpen = (id: string) => this.store.incidentById(id)?.members === undefined;
    if (incidents.length === 0 || open.length > 0) this.events.alertChanged(presentAlert(record, open, isOpen), 'everyone');
    for (const restricted of incidents.filter((i) => i.members)) {
      this.events.alertChanged(presentAlert(record, [...open, restricted.id], (id) => isOpen(id) || id === restricted.id), restricted.members!);
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
