/**
 * What happened to an incident since its destinations were last told: its document's facts now (from
 * the history, with who and when) and its alerts, compared with its notified state. Pure: the same
 * state, facts and alerts always give the same events under the same keys, which is what makes a
 * message's id the same when it is derived again after a crash.
 */
import type { AlertRecord } from '../alerts/alert-store.js';
import type { IncidentRecord } from '../store/metadata.js';
import { milestoneLabel } from '../../shared/schema/milestones.js';
import type { NotificationActor, NotificationEvent } from '../../shared/notifications.js';
import type { DocumentFacts, Provenance } from './followed-incident.js';
import type { NotifiedState } from './notification-store.js';

export interface DerivedEvent {
  /** Names what happened, uniquely within the incident: part of the message id. */
  key: string;
  event: NotificationEvent;
}

export interface EventInput {
  incident: IncidentRecord;
  state: NotifiedState | undefined;
  /** The document's facts; undefined when nothing in the history is new (only alerts may be). */
  facts: DocumentFacts | undefined;
  /** Alerts on, or once on, the incident. */
  alerts: AlertRecord[];
  now: number;
  /** A conclusion is told once it has not changed for this long. */
  quietMs: number;
  person: (userId: string) => NotificationActor;
  incidentUrl: (incidentId: string) => string;
  entryUrl: (incidentId: string, entryId: string) => string;
}

export interface EventOutput {
  state: NotifiedState;
  events: DerivedEvent[];
  /** New tests, one event each, for digests. */
  tests: DerivedEvent[];
}

const META_FIELDS = ['title', 'severity', 'status', 'members'] as const;
const VERDICTS = new Set(['confirmed', 'ruled-out']);
const iso = (ms: number) => new Date(ms).toISOString();

export function emptyState(): NotifiedState {
  return { seq: 0, meta: {}, milestones: {}, verdicts: {}, conclusions: [], tests: [], alertsLinked: [], alertsResolved: [], recheckAt: null };
}

export function deriveEvents(input: EventInput): EventOutput {
  const { incident, facts, now } = input;
  const events: DerivedEvent[] = [];
  const tests: DerivedEvent[] = [];
  const meta = facts?.meta ?? input.state?.meta ?? {};
  const summary = {
    id: incident.id,
    title: meta.title ?? incident.title,
    severity: meta.severity ?? incident.severity,
    status: meta.status ?? incident.status,
    restricted: Boolean(incident.members),
    url: input.incidentUrl(incident.id),
  };
  const actorOf = (p: Provenance | undefined) => (p ? input.person(p.userId) : null);
  const event = (type: NotificationEvent['type'], at: string, actor: NotificationActor | null, text: string, more: Partial<NotificationEvent> = {}): NotificationEvent => ({
    type, incident: summary, actor, at, summary: text, url: summary.url, ...more,
  });

  let state: NotifiedState;
  if (input.state) state = structuredClone(input.state);
  else {
    state = emptyState();
    // The declaration says what the incident was declared as; changes after it are updates.
    state.meta = { ...pick(facts?.declared ?? meta) };
    events.push({
      key: 'declared',
      event: event('incident.declared', incident.createdAt, input.person(incident.createdBy), `Incident declared: ${state.meta.title ?? incident.title} (${state.meta.severity ?? incident.severity})`),
    });
  }

  if (facts) {
    state.seq = facts.seq;
    // Title, severity, status, members: one event per change made together (same record).
    const groups = new Map<number, { p: Provenance | undefined; changes: NonNullable<NotificationEvent['changes']> }>();
    for (const field of META_FIELDS) {
      const to = facts.meta[field] ?? null;
      const from = state.meta[field] ?? null;
      if (to === from) continue;
      const p = facts.provenance(`meta.${field}`);
      const group = groups.get(p?.seq ?? 0) ?? { p, changes: [] };
      group.changes.push({ field, from, to });
      groups.set(p?.seq ?? 0, group);
    }
    for (const [seq, { p, changes }] of groups) {
      const text = changes.map(describeChange).join('; ');
      events.push({ key: `updated:${seq}:${changes.map((c) => c.field).join(',')}`, event: event('incident.updated', iso(p?.at ?? now), actorOf(p), text, { changes }) });
    }
    state.meta = pick(facts.meta);

    for (const [name, at] of Object.entries(facts.milestones)) {
      if (state.milestones[name] === at) continue;
      const p = facts.provenance(`milestone.${name}`);
      const label = milestoneLabel(name);
      events.push({
        key: `milestone:${name}:${at}`,
        event: event('milestone.set', iso(p?.at ?? now), actorOf(p), `Milestone: ${label} at ${at.slice(11, 19)} UTC`, { milestone: { name, label, at } }),
      });
    }
    state.milestones = { ...facts.milestones };

    for (const h of facts.hypotheses) {
      if (!VERDICTS.has(h.status)) {
        delete state.verdicts[h.id];
        continue;
      }
      if (state.verdicts[h.id] === h.status) continue;
      const p = facts.provenance(`hypothesis.${h.id}`);
      events.push({
        key: `verdict:${h.id}:${h.status}:${p?.seq ?? 0}`,
        event: event('hypothesis.verdict', iso(p?.at ?? now), actorOf(p), `Hypothesis ${h.status === 'confirmed' ? 'confirmed' : 'ruled out'}: ${h.statement}`, {
          hypothesis: { id: h.id, statement: h.statement, status: h.status },
        }),
      });
      state.verdicts[h.id] = h.status;
    }

    // A conclusion is typed a character at a time: told once it has been quiet for `quietMs`.
    let recheckAt: number | null = null;
    for (const entry of facts.entries) {
      if (!entry.conclusion.trim() || state.conclusions.includes(entry.id)) continue;
      const p = facts.provenance(`conclusion.${entry.id}`);
      const quietAt = (p?.at ?? 0) + input.quietMs;
      if (quietAt > now) {
        recheckAt = Math.min(recheckAt ?? Infinity, quietAt);
        continue;
      }
      events.push({
        key: `conclusion:${entry.id}`,
        event: event('conclusion.written', iso(p?.at ?? now), actorOf(p), `Conclusion: ${entry.title || 'untitled entry'}`, {
          url: input.entryUrl(incident.id, entry.id),
          entry: { id: entry.id, title: entry.title, conclusion: entry.conclusion },
        }),
      });
      state.conclusions.push(entry.id);
    }
    state.recheckAt = recheckAt;

    for (const entry of facts.entries) {
      if (entry.kind !== 'test' || state.tests.includes(entry.id)) continue;
      const p = facts.provenance(`entry.${entry.id}`);
      const at = iso(p?.at ?? now);
      const url = input.entryUrl(incident.id, entry.id);
      tests.push({
        key: `test:${entry.id}`,
        event: event('tests.digest', at, null, '1 new test logged', { tests: [{ entryId: entry.id, title: entry.title, ranAt: entry.ranAt, actor: actorOf(p), at, url }] }),
      });
      state.tests.push(entry.id);
    }
  }

  for (const alert of input.alerts) {
    const on = alert.incidents.includes(incident.id);
    const alertInfo = { id: alert.id, title: alert.title, status: alert.status, source: alert.source, url: alert.url };
    if (on && !state.alertsLinked.includes(alert.id)) {
      const link = [...(alert.links ?? [])].reverse().find((l) => l.incidentId === incident.id && l.attached);
      events.push({
        key: `alert.linked:${alert.id}`,
        event: event('alert.linked', link?.at ?? alert.receivedAt, link?.by ? input.person(link.by) : null, `Alert linked: ${alert.title}${link?.by ? '' : ' (matched by the incident’s label matchers)'}`, { alert: alertInfo }),
      });
      state.alertsLinked.push(alert.id);
    }
    if (alert.status === 'firing') state.alertsResolved = state.alertsResolved.filter((id) => id !== alert.id);
    else if (state.alertsLinked.includes(alert.id) && !state.alertsResolved.includes(alert.id)) {
      const at = alert.endsAt ?? alert.updatedAt;
      events.push({ key: `alert.resolved:${alert.id}:${at}`, event: event('alert.resolved', at, null, `Alert resolved: ${alert.title}`, { alert: alertInfo }) });
      state.alertsResolved.push(alert.id);
    }
  }
  return { state, events, tests };
}

function pick(meta: NotifiedState['meta']): NotifiedState['meta'] {
  const out: NotifiedState['meta'] = {};
  for (const field of META_FIELDS) if (meta[field] !== undefined) out[field] = meta[field];
  return out;
}

function describeChange(c: { field: string; from: string | null; to: string | null }): string {
  if (c.field === 'members') return c.to ? `Restricted to ${c.to}` : 'Open to everyone';
  if (c.field === 'title') return `Title changed to “${c.to ?? ''}”`;
  return `${c.field[0]!.toUpperCase()}${c.field.slice(1)} ${c.from ?? '—'} → ${c.to ?? '—'}`;
}
