/**
 * What of an incident is searchable, read out of its document and the catalog as plain records: the
 * incident itself (its title), each entry (title, command, observations, conclusion), each
 * hypothesis (statement, status, the verdicts entries gave it), each alert on it (name, labels,
 * annotations), each attachment (file name) and each link (title and URL). Both engines index the
 * same records (embedded: our inverted index in memory, several nodes: PostgreSQL full-text).
 */
import type * as Y from 'yjs';
import type { Attachment } from '../../shared/attachments.js';
import { listEntries, listHypotheses, readMeta, type Entry } from '../../shared/schema/doc.js';
import type { SearchKind } from '../../shared/search.js';
import type { AlertRecord } from '../alerts/alert-store.js';

export interface SearchDoc {
  /** `<incident>/<kind>/<id>`: unique across the index. */
  id: string;
  incidentId: string;
  kind: SearchKind;
  entryId?: string;
  hypothesisId?: string;
  title: string;
  /** Everything else searchable, one field per line. */
  body: string;
  /** An entry's command, as typed (what "seen before" compares first). */
  command?: string;
  /** An entry's conclusion. */
  conclusion?: string;
  /** ISO UTC. */
  at: string;
}

/** One incident as the index holds it. */
export interface IndexedIncident {
  incidentId: string;
  /** The history's seq the documents were read at (a newer reading replaces an older one, never the reverse). */
  seq: number;
  docs: SearchDoc[];
  /** `name=value` of every label of every alert on the incident, lower case (the `site:ny` filter). */
  labels: string[];
  /** What it turned out to be: its latest conclusion entry, else its confirmed hypothesis. */
  conclusion?: string;
  /** Restricted to its members (an engine may keep it apart, so other readers' searches never touch it). */
  restricted?: boolean;
}

const lines = (...parts: Array<string | undefined>) => parts.filter((p) => p && p.trim()).join('\n');

/** The incident's conclusion, as results show it. */
function incidentConclusion(entries: Entry[], hypotheses: Array<{ statement: string; status: string }>): string | undefined {
  const concluded = entries.filter((e) => e.kind === 'conclusion').pop();
  if (concluded) return [concluded.title, concluded.conclusion].filter((s) => s.trim()).join(' — ') || undefined;
  const confirmed = hypotheses.find((h) => h.status === 'confirmed');
  return confirmed ? `confirmed: ${confirmed.statement}` : undefined;
}

export function searchDocsOf(input: {
  incidentId: string;
  seq: number;
  doc: Y.Doc;
  /** When the incident was created, for its own record's time. */
  createdAt: string;
  restricted: boolean;
  alerts: AlertRecord[];
  attachments: Attachment[];
}): IndexedIncident {
  const { incidentId, doc } = input;
  const meta = readMeta(doc);
  const entries = listEntries(doc);
  const hypotheses = listHypotheses(doc);
  const docs: SearchDoc[] = [];
  const startedAt = meta.startedAt ?? input.createdAt;
  docs.push({ id: `${incidentId}/incident/${incidentId}`, incidentId, kind: 'incident', title: meta.title ?? '', body: '', at: startedAt });

  const attachmentsById = new Map(input.attachments.map((a) => [a.id, a]));
  const entryOfAlert = new Map<string, Entry>();
  const verdictsOf = new Map<string, string[]>();
  for (const e of entries) {
    const at = e.ranAt || startedAt;
    docs.push({
      id: `${incidentId}/entry/${e.id}`,
      incidentId,
      kind: e.kind,
      entryId: e.id,
      title: e.title,
      body: lines(e.command, e.observations, e.conclusion),
      ...(e.command.trim() ? { command: e.command } : {}),
      ...(e.conclusion.trim() ? { conclusion: e.conclusion } : {}),
      at,
    });
    for (const id of e.attachments) {
      const file = attachmentsById.get(id);
      if (file) docs.push({ id: `${incidentId}/attachment/${e.id}/${id}`, incidentId, kind: 'attachment', entryId: e.id, title: file.name, body: file.kind, at: file.uploadedAt });
    }
    e.links.forEach((link, i) => {
      docs.push({ id: `${incidentId}/link/${e.id}/${i}`, incidentId, kind: 'link', entryId: e.id, title: link.label || link.url, body: link.url, at });
    });
    for (const alertId of e.alerts) if (!entryOfAlert.has(alertId)) entryOfAlert.set(alertId, e);
    for (const [hypothesisId, verdict] of Object.entries(e.hypotheses)) {
      const list = verdictsOf.get(hypothesisId) ?? [];
      list.push(`${verdict === 'supports' ? 'supported by' : 'refuted by'} ${e.title}`);
      verdictsOf.set(hypothesisId, list);
    }
  }
  for (const h of hypotheses) {
    docs.push({
      id: `${incidentId}/hypothesis/${h.id}`,
      incidentId,
      kind: 'hypothesis',
      hypothesisId: h.id,
      title: h.statement,
      body: lines(h.status.replace('-', ' '), ...(verdictsOf.get(h.id) ?? [])),
      at: startedAt,
    });
  }
  const labels = new Set<string>();
  for (const a of input.alerts) {
    for (const [name, value] of Object.entries(a.labels)) labels.add(`${name}=${value}`.toLowerCase());
    const entry = entryOfAlert.get(a.id);
    docs.push({
      id: `${incidentId}/alert/${a.id}`,
      incidentId,
      kind: 'alert',
      ...(entry ? { entryId: entry.id } : {}),
      title: a.title,
      body: lines(
        Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(' '),
        Object.values(a.annotations).join('\n'),
      ),
      at: a.startsAt,
    });
  }
  const conclusion = incidentConclusion(entries, hypotheses);
  return { incidentId, seq: input.seq, docs, labels: [...labels].sort(), ...(conclusion ? { conclusion } : {}), ...(input.restricted ? { restricted: true } : {}) };
}
