/**
 * `bridgelog milestone mitigated --at -5m`: sets one of the incident's milestones (#18) through the
 * HTTP API, so the server checks the time against its own clock and records who set it. A relative
 * time is sent as given and counted back from the server's now, not this machine's. Without a name,
 * lists the milestones and durations; `--remove` takes one away.
 */
import type { Incident } from '../../shared/api.js';
import {
  formatDuration, isStandardMilestone, parseMilestoneTime, StandardMilestones, type IncidentMilestones, type MilestoneView,
} from '../../shared/schema/milestones.js';
import { parseOptions } from '../args.js';
import { requireIncident, requireServer, type Settings } from '../config.js';
import { deliverQueued } from '../delivery.js';
import { EntryQueue } from '../entry-queue.js';
import { UsageError } from '../errors.js';
import { say } from '../say.js';
import { BridgelogApi } from '../server-api.js';

const USAGE = 'usage: bridgelog milestone [NAME [--at TIME] | NAME --remove] [--incident ID]';
const utc = (iso: string) => `${iso.slice(0, 19).replace('T', ' ')}Z`;

/** `impact-started`, `Impact started` and `impactstarted` name impactStarted; anything else is a custom name. */
export function milestoneName(typed: string): string {
  const squashed = typed.toLowerCase().replace(/[\s_-]+/g, '');
  return StandardMilestones.find((m) => m.toLowerCase() === squashed) ?? typed;
}

export async function milestone(args: string[], settings: Settings): Promise<number> {
  // `--at -5m`: parseArgs takes a value starting with "-" for an option; this one is a time.
  const joined = args.flatMap((arg, i) => (arg === '--at' && args[i + 1]?.startsWith('-') ? [] : args[i - 1] === '--at' && arg.startsWith('-') ? [`--at=${arg}`] : [arg]));
  const { values, positionals } = parseOptions({
    args: joined,
    options: { at: { type: 'string' }, incident: { type: 'string', short: 'i' }, remove: { type: 'boolean' } },
    allowPositionals: true,
  });
  if (positionals.length > 1) throw new UsageError(`${USAGE} (quote a name with spaces: "customers notified")`);
  const typed = positionals[0];
  if (typed === undefined && (values.at !== undefined || values.remove)) throw new UsageError(`which milestone? ${USAGE}`);
  if (values.remove && values.at !== undefined) throw new UsageError('--at or --remove, not both');
  // Checked here only for its form: the server counts it from its own clock and checks the bounds.
  const parsed = values.at === undefined ? 0 : parseMilestoneTime(values.at, Date.now());
  if (typeof parsed !== 'number') throw new UsageError(`--at: ${parsed.problem}`);

  const api = new BridgelogApi(requireServer(settings));
  const incidentId = requireIncident(settings, values.incident);
  await deliverQueued(api, new EntryQueue(settings.home));
  const base = `/api/incidents/${encodeURIComponent(incidentId)}/milestones`;
  if (typed === undefined) return list(api, base, incidentId);

  const name = milestoneName(typed);
  const path = `${base}/${encodeURIComponent(name)}`;
  if (values.remove) {
    await api.check(await api.fetch(path, { method: 'DELETE' }), `incident ${incidentId}`);
    say(`${name} removed from incident ${incidentId} (the history keeps it)`);
    return 0;
  }
  const res = await api.check(
    await api.fetch(path, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(values.at === undefined ? {} : { at: values.at }) }),
    `incident ${incidentId}`,
  );
  const view = (await res.json()) as MilestoneView;
  say(`${view.label} at ${utc(view.at)}${view.backfilled ? ' (back-filled)' : ''}, set by ${view.setBy.name} on incident ${incidentId}`);
  if (name === 'resolved') say('the incident is resolved');
  if (!isStandardMilestone(name)) say(`"${name}" is a custom milestone (standard ones: ${StandardMilestones.join(', ')})`);
  return 0;
}

async function list(api: BridgelogApi, base: string, incidentId: string): Promise<number> {
  const [answer, incident] = await Promise.all([api.getJson<IncidentMilestones>(base, `incident ${incidentId}`), api.getJson<Incident>(`/api/incidents/${encodeURIComponent(incidentId)}`)]);
  if (answer.milestones.length === 0) say(`no milestones set on ${incidentId} (${incident.title})`);
  const width = Math.max(0, ...answer.milestones.map((m) => m.label.length));
  for (const m of answer.milestones) console.log(`${utc(m.at)}  ${m.label.padEnd(width)}  ${m.setBy.name}${m.backfilled ? ` (back-filled at ${utc(m.setAt)})` : ''}`);
  for (const d of answer.durations) console.log(`${d.label.padEnd(20)}  ${d.ms === undefined ? `— ${d.problem}` : `${formatDuration(d.ms)}${d.running ? ' (running)' : ''}`}`);
  for (const s of answer.suggestions) say(`suggested: ${s.name} at ${utc(s.at)} (${s.why})`);
  return 0;
}
