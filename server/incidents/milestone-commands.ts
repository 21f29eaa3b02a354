/**
 * Milestones (#18): set and removed through the incident's document under the caller's name (so
 * they are in the attributed history), checked against the server's clock and the incident first;
 * presented with who set each and when, read from the history; and suggested from the evidence.
 */
import type * as Y from 'yjs';
import type { Alert } from '../../shared/alerts.js';
import type { UserRef } from '../../shared/model.js';
import { listEntries, readMeta, setMeta } from '../../shared/schema/doc.js';
import {
  isStandardMilestone, milestoneLabel, milestoneNameProblem, MilestoneLimits, parseMilestoneTime, readMilestones, setMilestone,
  StandardMilestones, type MilestoneSuggestion, type MilestoneView,
} from '../../shared/schema/milestones.js';
import type { MilestoneWriter } from '../history/authorship.js';
import type { IncidentRecord, UserRecord } from '../store/metadata.js';
import { HttpError } from '../routes/http-error.js';
import { mirrorMeta, statusFollowsResolvedMilestone, type IncidentDeps } from './incident-commands.js';

const iso = (ms: number) => new Date(ms).toISOString();
const order = (name: string) => (isStandardMilestone(name) ? StandardMilestones.indexOf(name) : StandardMilestones.length);

/** The document's milestones as the API and exports present them, by time (standard order on a tie). */
export function milestoneViews(doc: Y.Doc, writerOf: (name: string) => MilestoneWriter | undefined, person: (id: string) => UserRef): MilestoneView[] {
  return Object.entries(readMilestones(doc))
    .map(([name, at]): MilestoneView => {
      const writer = writerOf(name);
      return {
        name,
        label: milestoneLabel(name),
        at,
        // Unknown only if the records that set it were lost to a damaged log.
        setBy: writer ? person(writer.userId) : { id: '', name: 'unknown' },
        setAt: writer ? iso(writer.at) : at,
        backfilled: writer !== undefined && writer.at - Date.parse(at) > MilestoneLimits.backfilledAfterMs,
      };
    })
    .sort((a, b) => a.at.localeCompare(b.at) || order(a.name) - order(b.name) || a.name.localeCompare(b.name));
}

/**
 * The milestone time asked for, as the document will hold it (ISO-8601 UTC), or a 400 naming `at`:
 * unparseable, later than the server's clock by more than `futureSlackMs`, or earlier than the
 * incident's creation by more than `maxBeforeCreationMs`.
 */
export function milestoneTime(input: string | undefined, incident: IncidentRecord, now = Date.now()): string {
  const at = parseMilestoneTime(input, now);
  if (typeof at !== 'number') throw new HttpError(400, `at: ${at.problem}`, 'at');
  if (at > now + MilestoneLimits.futureSlackMs) throw new HttpError(400, `at: ${iso(at)} is in the future (the server's clock says ${iso(now)})`, 'at');
  const earliest = Date.parse(incident.createdAt) - MilestoneLimits.maxBeforeCreationMs;
  if (at < earliest) {
    throw new HttpError(400, `at: ${iso(at)} is more than ${MilestoneLimits.maxBeforeCreationMs / 86_400_000} days before the incident was declared (${incident.createdAt})`, 'at');
  }
  return iso(at);
}

function checkName(name: string, current: Record<string, string>): void {
  const problem = milestoneNameProblem(name);
  if (problem) throw new HttpError(400, `name: ${problem}`, 'name');
  if (isStandardMilestone(name) || name in current) return;
  const custom = Object.keys(current).filter((n) => !isStandardMilestone(n)).length;
  if (custom >= MilestoneLimits.maxCustom) throw new HttpError(400, `name: an incident has at most ${MilestoneLimits.maxCustom} custom milestones; remove one first`, 'name');
}

/**
 * Sets a milestone for `user`; setting `resolved` resolves the incident at that time in the same
 * change. Nothing is written when the name or time is refused.
 */
export async function setIncidentMilestone(deps: IncidentDeps, user: UserRecord, incident: IncidentRecord, name: string, input: string | undefined): Promise<void> {
  const room = await deps.rooms.open(incident.id);
  checkName(name, readMilestones(room.doc));
  const at = milestoneTime(input, incident);
  await room.applyServerChange(user.id, (doc) => {
    setMilestone(doc, name, at);
    if (name === 'resolved') setMeta(doc, { status: 'resolved', resolvedAt: at });
  });
  await mirrorMeta(deps, incident.id, readMeta(room.doc), readMilestones(room.doc));
}

/** Removes a milestone for `user` (the history keeps it); removing `resolved` reopens the incident. */
export async function removeIncidentMilestone(deps: IncidentDeps, user: UserRecord, incident: IncidentRecord, name: string): Promise<void> {
  const problem = milestoneNameProblem(name);
  if (problem) throw new HttpError(400, `name: ${problem}`, 'name');
  const room = await deps.rooms.open(incident.id);
  if (readMilestones(room.doc)[name] === undefined) return;
  await room.applyServerChange(user.id, (doc) => {
    setMilestone(doc, name, null);
    if (name === 'resolved') statusFollowsResolvedMilestone(doc);
  });
  await mirrorMeta(deps, incident.id, readMeta(room.doc), readMilestones(room.doc));
}

/**
 * Times the evidence suggests for milestones not set yet: the first alert on the incident to fire →
 * impact started; declared from an alert in the inbox → detected at declaration; the earliest entry
 * marked as what mitigated it → mitigated at the time it was run.
 * @param alerts the alerts on the incident the caller may see
 */
export function suggestMilestones(doc: Y.Doc, incident: IncidentRecord, alerts: readonly Alert[]): MilestoneSuggestion[] {
  const set = readMilestones(doc);
  const out: MilestoneSuggestion[] = [];
  const first = alerts.filter((a) => a.incidents.includes(incident.id)).sort((a, b) => a.startsAt.localeCompare(b.startsAt))[0];
  if (first && !set.impactStarted) out.push({ name: 'impactStarted', at: first.startsAt, why: `first alert '${first.title}' fired` });
  const source = incident.declaredFrom ? alerts.find((a) => a.id === incident.declaredFrom) : undefined;
  if (incident.declaredFrom && !set.detected) {
    out.push({ name: 'detected', at: incident.createdAt, why: source ? `declared from the alert '${source.title}' in the inbox` : 'declared from an alert in the inbox' });
  }
  const mitigating = listEntries(doc).filter((e) => e.mitigated && !Number.isNaN(Date.parse(e.ranAt)))[0]; // listEntries is in ranAt order
  if (mitigating && !set.mitigated) out.push({ name: 'mitigated', at: mitigating.ranAt, why: `'${mitigating.title || 'an entry'}' was marked as what mitigated it` });
  return out;
}
