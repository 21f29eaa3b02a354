/** The report as GitHub-flavoured Markdown: renders on GitHub and GitLab, reads well as plain text. */
import { formatDuration } from '../../shared/schema/milestones.js';
import type { Report, ReportAttachment, ReportEntry } from './report.js';
import { countOf } from '../../shared/plural.js';

const utc = (iso: string | null) => (iso ? `${iso.slice(0, 19).replace('T', ' ')}Z` : '—');
/** Table cells: one line, no column breaks. */
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ').trim() || ' ';
/** Text placed inline: no accidental headings, links or HTML. */
const plain = (s: string) => s.replace(/([\\`*_[\]<>#])/g, '\\$1');
const fence = (s: string) => {
  const ticks = '`'.repeat(Math.max(3, ...[...s.matchAll(/`+/g)].map((m) => m[0].length + 1)));
  return `${ticks}\n${s}\n${ticks}`;
};
const size = (n: number) => (n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`);

export interface MarkdownOptions {
  /** How to link an attachment: a path in the zip bundle, or the server URL. */
  attachmentHref: (a: ReportAttachment) => string;
}

function attachmentLine(a: ReportAttachment, opts: MarkdownOptions): string {
  if (a.missing) return `- ${plain(a.name)} (${size(a.size)}) — **missing on the server**, SHA-256 \`${a.sha256}\``;
  const link = a.kind === 'image' ? `![${plain(a.name)}](${opts.attachmentHref(a)})` : `[${plain(a.name)}](${opts.attachmentHref(a)}) (${size(a.size)})`;
  const c = a.capture;
  const capture = c
    ? ` — ${c.packets} packets, ${size(c.bytes)} over ${(c.durationMs / 1000).toFixed(3)} s (${utc(c.firstPacketAt)} → ${utc(c.lastPacketAt)}); ` +
      `peak 1 ms rate ${c.peakMbitPerMs.toFixed(0)} Mbit/s, ${c.msOverCapacity} ms over ${c.capacityMbit.toFixed(0)} Mbit/s`
    : '';
  return `- ${link}${capture}`;
}

/** The report in parts, so HTML can be rendered and streamed part by part. */
export function* markdownParts(r: Report, opts: MarkdownOptions): Generator<{ markdown: string; entry?: ReportEntry }> {
  yield { markdown: headMarkdown(r) };
  for (const e of r.entries) yield { markdown: entryMarkdown(r, e, opts), entry: e };
  yield { markdown: tailMarkdown(r) };
}

export function toMarkdown(r: Report, opts: MarkdownOptions): string {
  return [...markdownParts(r, opts)].map((p) => p.markdown).join('');
}

function headMarkdown(r: Report): string {
  const out: string[] = [];
  const push = (...lines: string[]) => out.push(...lines);
  push(`# ${plain(r.incident.title)}`, '');
  // A named header row: an empty one renders as a blank first row in the HTML report (#16).
  push('| Fact | Value |', '|---|---|');
  push(`| Severity | ${r.incident.severity} |`, `| Status | ${r.incident.status} |`);
  push(`| Impact | ${utc(r.impact.start)} → ${r.impact.end ? utc(r.impact.end) : 'ongoing'} |`);
  push(`| Declared by | ${cell(r.incident.createdBy.name)} at ${utc(r.incident.startedAt ?? r.incident.createdAt)} |`);
  push(`| Responders | ${cell(r.responders.map((p) => `${p.name} (${countOf(p.entries, 'entry', 'entries')}, ${countOf(p.edits, 'edit', 'edits')})`).join(', ') || '—')} |`);
  push(`| Report | as of ${utc(r.asOf)}, generated ${utc(r.generatedAt)}; all times UTC |`, '');

  push(...milestonesMarkdown(r));

  push('## What we know', '');
  if (r.summary.conclusions.length === 0) push('_No conclusions yet._', '');
  for (const c of r.summary.conclusions) push(`- **${plain(c.title)}**: ${cell(c.conclusion)}`);
  if (r.summary.conclusions.length) push('');
  const titleOf = new Map(r.entries.map((e) => [e.id, e.title]));
  for (const h of r.summary.hypotheses) {
    push(`### Hypothesis: ${plain(h.statement)} — ${h.status}`, '');
    push(`- For: ${h.supportedBy.map((id) => plain(titleOf.get(id) ?? id)).join('; ') || '—'}`);
    push(`- Against: ${h.refutedBy.map((id) => plain(titleOf.get(id) ?? id)).join('; ') || '—'}`, '');
  }

  push('## Timeline', '', '| Time (UTC) | Who | What |', '|---|---|---|');
  for (const t of r.timeline) push(`| ${utc(t.at)} | ${cell(plain(t.who))} | ${cell(plain(t.what))} |`);
  push('');

  push('## Tests and notes', '');
  return `${out.join('\n')}\n`;
}

/** When impact started, was detected, acknowledged, mitigated, resolved; and the durations between. */
function milestonesMarkdown(r: Report): string[] {
  const milestones = r.milestones ?? [];
  const out = ['## Milestones', ''];
  if (milestones.length === 0) out.push('_No milestones set._', '');
  else {
    out.push('| Time (UTC) | Milestone | Set by |', '|---|---|---|');
    for (const m of milestones) {
      out.push(`| ${utc(m.at)} | ${cell(plain(m.label))} | ${cell(plain(m.setBy.name))} at ${utc(m.setAt)}${m.backfilled ? ' (back-filled)' : ''} |`);
    }
    out.push('');
  }
  const durations = r.durations ?? [];
  if (durations.length) {
    out.push('| Duration | |', '|---|---|');
    for (const d of durations) {
      const value = d.ms === undefined ? `— ${d.problem ?? 'unknown'}` : `${formatDuration(d.ms)}${d.running ? ` (running at ${utc(r.asOf)})` : ''}${d.problem ? ` — ${d.problem}` : ''}`;
      out.push(`| ${d.label} | ${cell(value)} |`);
    }
    out.push('');
  }
  return out;
}

function entryMarkdown(r: Report, e: ReportEntry, opts: MarkdownOptions): string {
  const out: string[] = [];
  const push = (...lines: string[]) => out.push(...lines);
  push(`### ${utc(e.ranAt)} — ${plain(e.title)} (${e.kind})`, '');
  const by = e.createdBy ? `by ${e.createdBy.name}` : 'author unknown';
  const logged = e.loggedAt ? `, logged ${utc(e.loggedAt)}${e.backfilled ? ' (back-filled)' : ''}` : '';
  const edited = e.editors.length ? `; edited by ${e.editors.map((p) => p.name).join(', ')}` : '';
  push(`_${plain(by + logged + edited)}_`, '');
  if (e.mitigated) push('**Marked as what mitigated the incident.**', '');
  if (e.command.trim()) push('**How to repeat it**', '', fence(e.command), '');
  if (e.observations.trim()) push('**Observations**', '', e.observations.trim(), '');
  if (e.conclusion.trim()) push('**Conclusion**', '', e.conclusion.trim(), '');
  const verdicts = Object.entries(e.hypotheses).map(([id, v]) => `${v} “${r.summary.hypotheses.find((h) => h.id === id)?.statement ?? id}”`);
  if (verdicts.length) push(`**Hypotheses:** ${plain(verdicts.join('; '))}`, '');
  if (e.alerts.length) push(`**Alerts:** ${e.alerts.map((a) => `${plain(a.title)} (${a.status}, from ${utc(a.startsAt)})`).join('; ')}`, '');
  if (e.links.length) push('**Links**', '', ...e.links.map((l) => `- [${plain(l.label || l.url)}](<${l.url.replace(/[<>]/g, '')}>)`), '');
  if (e.attachments.length) push('**Evidence**', '', ...e.attachments.map((a) => attachmentLine(a, opts)), '');
  if (e.unknownAttachments.length) push(`_Evidence referenced but unknown to the server: ${e.unknownAttachments.join(', ')}_`, '');
  return `${out.join('\n')}\n`;
}

function tailMarkdown(r: Report): string {
  const out: string[] = [];
  const push = (...lines: string[]) => out.push(...lines);
  push('## Alerts', '');
  if (r.alerts.length === 0) push('_No alerts linked to this incident._', '');
  else {
    push('| Alert | Status | Fired (UTC) | Resolved (UTC) | Labels |', '|---|---|---|---|---|');
    for (const a of r.alerts) {
      const resolved = a.transitions.filter((t) => t.status === 'resolved').at(-1)?.at ?? null;
      push(`| ${cell(plain(a.title))} | ${a.statusAsOf} | ${utc(a.startsAt)} | ${utc(resolved)} | ${cell(Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(', '))} |`);
    }
    push('');
  }

  push('## Attachments', '');
  if (r.attachments.length === 0) push('_None._', '');
  else {
    push('| File | Kind | Size | SHA-256 |', '|---|---|---|---|');
    for (const a of r.attachments) push(`| ${cell(plain(a.name))}${a.missing ? ' (missing)' : ''} | ${a.kind} | ${size(a.size)} | \`${a.sha256}\` |`);
    push('');
  }
  return `${out.join('\n')}\n`;
}
