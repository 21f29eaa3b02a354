/**
 * A plain Markdown report of an incident built on this machine from the document
 * (GET /state) and the history (GET /authors), for servers without the export route.
 */
import * as Y from 'yjs';
import { listEntries, listHypotheses, readMeta, type Entry } from '../shared/schema/doc.js';
import type { BridgelogApi, UploadedAttachment } from './server-api.js';

export async function markdownReport(api: BridgelogApi, incidentId: string): Promise<string> {
  const [state, incident, authors, attachments] = await Promise.all([
    api.state(incidentId),
    api.incident(incidentId),
    api.authors(incidentId),
    api.attachments(incidentId),
  ]);
  const doc = new Y.Doc();
  Y.applyUpdate(doc, state);
  const meta = readMeta(doc);
  const hypotheses = listHypotheses(doc);
  const statements = new Map(hypotheses.map((h) => [h.id, h.statement]));
  const files = new Map(attachments.map((a) => [a.id, a]));

  const out = [`# ${meta.title ?? incident.title}`, ''];
  out.push(`- severity: ${meta.severity ?? incident.severity}, status: ${meta.status ?? incident.status}`);
  out.push(`- started: ${meta.startedAt ?? incident.createdAt}${meta.resolvedAt ? `, resolved: ${meta.resolvedAt}` : ''}`);
  out.push(`- exported: ${new Date().toISOString()} from ${api.url}/ (times in UTC)`, '');
  if (hypotheses.length > 0) {
    out.push('## Hypotheses', '');
    for (const h of hypotheses) out.push(`- **${h.status}**: ${h.statement}`);
    out.push('');
  }
  out.push('## Log', '');
  for (const entry of listEntries(doc)) {
    const by = authors.entries[entry.id];
    out.push(`### ${entry.ranAt} · ${entry.kind} · ${entry.title}`, '');
    if (by) out.push(`by ${by.createdBy.name}, logged ${by.loggedAt}${by.editors.length ? `, edited by ${by.editors.map((u) => u.name).join(', ')}` : ''}`, '');
    out.push(...entryBody(entry, statements, files));
  }
  doc.destroy();
  return out.join('\n');
}

function entryBody(entry: Entry, statements: Map<string, string>, files: Map<string, UploadedAttachment>): string[] {
  const out: string[] = [];
  if (entry.command) out.push('```sh', entry.command, '```', '');
  if (entry.observations) out.push(entry.observations, '');
  if (entry.conclusion) out.push(`**Conclusion:** ${entry.conclusion}`, '');
  for (const [id, verdict] of Object.entries(entry.hypotheses)) out.push(`- ${verdict}: ${statements.get(id) ?? id}`);
  for (const id of entry.attachments) {
    const file = files.get(id);
    out.push(`- attachment: ${file ? `${file.name} (${file.kind}, ${file.size} bytes)` : id}`);
  }
  if (Object.keys(entry.hypotheses).length + entry.attachments.length > 0) out.push('');
  return out;
}
