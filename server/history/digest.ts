/**
 * Catch-up: what changed in an incident between two points of its history, as a short list a
 * latecomer reads in a minute. Each item is a net change — the document at the first point compared
 * with the document at the second — so a paragraph typed and deleted again while someone was away
 * is not news; who made it and when come from the records in between.
 */
import * as Y from 'yjs';
import { incidentsAsOf, type Alert } from '../../shared/alerts.js';
import type { DigestItem, HistoryMark } from '../../shared/history.js';
import type { UserRef } from '../../shared/model.js';
import { listEntries, listHypotheses, readMeta, type Entry } from '../../shared/schema/doc.js';
import { milestoneLabel, readMilestones } from '../../shared/schema/milestones.js';
import type { IncidentReplay } from './replay.js';

/** Fields of an entry whose change is an "entry changed" item (conclusions and evidence have their own). */
const ENTRY_FIELDS = ['kind', 'title', 'ranAt', 'command', 'observations', 'alerts', 'hypotheses'] as const;
const INCIDENT_FIELDS = ['title', 'severity', 'status', 'startedAt', 'resolvedAt'] as const;

function docAfter(replay: IncidentReplay, seq: number): Y.Doc {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, replay.stateAfter(seq));
  return doc;
}

/** Who touched each entry, hypothesis and incident field between the marks, and when last. */
function touches(replay: IncidentReplay, since: number, until: number) {
  const by = new Map<string, { users: string[]; at: string }>();
  const note = (key: string, userId: string, at: string) => {
    const t = by.get(key) ?? { users: [], at };
    if (!t.users.includes(userId)) t.users.push(userId);
    t.at = at;
    by.set(key, t);
  };
  for (const event of replay.events) {
    if (event.toSeq <= since || event.seq > until) continue;
    for (const c of event.changes) {
      if ('entry' in c) note(`entry:${c.entry}`, event.userId, event.toAt);
      else if ('hypothesis' in c) note(`hypothesis:${c.hypothesis}`, event.userId, event.toAt);
      else if (c.kind === 'milestone') note(`milestone:${c.name}`, event.userId, event.toAt);
      else note(`incident:${c.field}`, event.userId, event.toAt);
    }
  }
  return by;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * @param alerts the alerts ever attached to the incident, each with its link history for it
 */
export function buildDigest(
  incidentId: string,
  replay: IncidentReplay,
  since: HistoryMark,
  until: HistoryMark,
  alerts: Alert[],
  userRef: (id: string) => UserRef,
): DigestItem[] {
  const before = docAfter(replay, since.seq);
  const after = docAfter(replay, until.seq);
  const touched = touches(replay, since.seq, until.seq);
  const who = (key: string) => {
    const t = touched.get(key);
    return { by: (t?.users ?? []).map(userRef), at: t?.at ?? until.at };
  };
  const items: DigestItem[] = [];

  const old = new Map(listEntries(before).map((e) => [e.id, e]));
  const now = new Map(listEntries(after).map((e) => [e.id, e]));
  for (const entry of now.values()) {
    const was = old.get(entry.id);
    const meta = who(`entry:${entry.id}`);
    if (!was) {
      items.push({ kind: 'entry-added', entry: entry.id, entryKind: entry.kind, title: entry.title, conclusion: entry.conclusion, attachments: entry.attachments.length, ...meta });
      continue;
    }
    items.push(...entryChanges(was, entry, meta));
  }
  for (const was of old.values()) {
    if (!now.has(was.id)) items.push({ kind: 'entry-removed', entry: was.id, title: was.title, ...who(`entry:${was.id}`) });
  }

  const oldHypotheses = new Map(listHypotheses(before).map((h) => [h.id, h]));
  for (const h of listHypotheses(after)) {
    const was = oldHypotheses.get(h.id);
    const meta = who(`hypothesis:${h.id}`);
    if (!was) items.push({ kind: 'hypothesis-added', hypothesis: h.id, statement: h.statement, status: h.status, ...meta });
    else if (was.status !== h.status) items.push({ kind: 'verdict', hypothesis: h.id, statement: h.statement, from: was.status, to: h.status, ...meta });
  }

  const oldMeta = readMeta(before);
  const newMeta = readMeta(after);
  for (const field of INCIDENT_FIELDS) {
    if (oldMeta[field] !== newMeta[field]) items.push({ kind: 'incident', field, from: oldMeta[field] ?? null, to: newMeta[field] ?? null, ...who(`incident:${field}`) });
  }

  const oldMilestones = readMilestones(before);
  const newMilestones = readMilestones(after);
  for (const name of new Set([...Object.keys(oldMilestones), ...Object.keys(newMilestones)])) {
    const from = oldMilestones[name] ?? null;
    const to = newMilestones[name] ?? null;
    if (from !== to) items.push({ kind: 'milestone', name, label: milestoneLabel(name), from, to, ...who(`milestone:${name}`) });
  }

  // Alerts change outside the document: their transitions say when Bridgelog heard of each, their
  // links when they were attached to the incident or detached from it, and by whom.
  const sinceMs = Date.parse(since.at);
  const untilMs = Date.parse(until.at);
  for (const alert of alerts) {
    const wasOn = incidentsAsOf(alert, since.at).includes(incidentId);
    const isOn = incidentsAsOf(alert, until.at).includes(incidentId);
    if (isOn) {
      for (const t of alert.transitions) {
        const heard = Date.parse(t.receivedAt);
        if (heard <= sinceMs || heard > untilMs) continue;
        items.push({ kind: t.status === 'resolved' ? 'alert-resolved' : 'alert-fired', alert: alert.id, title: alert.title, by: [], at: t.at });
      }
    }
    if (wasOn === isOn) continue;
    const link = alert.links.findLast((l) => l.incidentId === incidentId && l.at > since.at && l.at <= until.at);
    // The label matchers attach an alert as it arrives: its "fired" says so already.
    const firstHeard = alert.transitions[0]?.receivedAt ?? '';
    if (isOn && link?.by === null && firstHeard > since.at) continue;
    items.push({ kind: isOn ? 'alert-attached' : 'alert-detached', alert: alert.id, title: alert.title, by: link?.by ? [userRef(link.by)] : [], at: link?.at ?? until.at });
  }

  before.destroy();
  after.destroy();
  return items.sort((a, b) => a.at.localeCompare(b.at));
}

function entryChanges(was: Entry, entry: Entry, meta: { by: UserRef[]; at: string }): DigestItem[] {
  const out: DigestItem[] = [];
  const base = { entry: entry.id, title: entry.title, ...meta };
  if (was.conclusion !== entry.conclusion) out.push({ kind: 'conclusion', conclusion: entry.conclusion, previous: was.conclusion, ...base });
  const newAttachments = entry.attachments.filter((id) => !was.attachments.includes(id));
  const newLinks = entry.links.filter((l) => !was.links.some((o) => o.url === l.url));
  if (newAttachments.length || newLinks.length) out.push({ kind: 'evidence', attachments: newAttachments, links: newLinks.length, ...base });
  const fields = ENTRY_FIELDS.filter((f) => !same(was[f], entry[f]));
  if (fields.length) out.push({ kind: 'entry-changed', fields, ...base });
  return out;
}
