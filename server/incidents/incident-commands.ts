/**
 * Creating and changing incidents. The incident's metadata lives in two places that must agree: the
 * metadata store (for lists) and the document's `meta` map (so the change is in the attributed,
 * replayable history). Changes go through the document; the store follows it (`mirrorMeta`).
 */
import type { Incident, IncidentStatus, Severity } from '../../shared/api.js';
import { IncidentStatuses, Severities } from '../../shared/api.js';
import { metaOf, newId, readMeta, setMeta, type Meta } from '../../shared/schema/doc.js';
import { readMilestones, setMilestone } from '../../shared/schema/milestones.js';
import type * as Y from 'yjs';
import type { IncidentChange } from '../collab/incident-room.js';
import type { AccessChanges } from '../auth/access-changes.js';
import type { IncidentRooms } from '../collab/incident-rooms.js';
import type { AlertReceiver } from '../alerts/alert-receiver.js';
import type { AppEvents } from '../events/app-events.js';
import type { IncidentRecord, MetadataStore, UserRecord } from '../store/metadata.js';

export interface IncidentDeps {
  store: MetadataStore;
  rooms: IncidentRooms;
  events: AppEvents;
  alertReceiver: AlertReceiver;
  access: AccessChanges;
}

export const presentIncident = (i: IncidentRecord): Incident => ({
  id: i.id,
  title: i.title,
  severity: i.severity,
  status: i.status,
  createdAt: i.createdAt,
  createdBy: i.createdBy,
  resolvedAt: i.resolvedAt,
  ...(i.members ? { members: i.members } : {}),
  ...(i.alertMatchers ? { alertMatchers: i.alertMatchers } : {}),
  ...(i.milestones ? { milestones: i.milestones } : {}),
  ...(i.declaredFrom ? { declaredFrom: i.declaredFrom } : {}),
});

export async function createIncident(
  deps: IncidentDeps,
  user: UserRecord,
  input: { title: string; severity?: Severity; members?: string[]; alertMatchers?: string[]; declaredFrom?: string },
): Promise<Incident> {
  const now = new Date().toISOString();
  const record: IncidentRecord = {
    id: newId(),
    title: input.title,
    severity: input.severity ?? 'sev3',
    status: 'investigating',
    createdAt: now,
    createdBy: user.id,
    resolvedAt: null,
    ...(input.members ? { members: [...new Set([user.id, ...input.members])] } : {}),
    ...(input.alertMatchers?.length ? { alertMatchers: input.alertMatchers } : {}),
    ...(input.declaredFrom ? { declaredFrom: input.declaredFrom } : {}),
  };
  await deps.rooms.createLog(record.id);
  await deps.store.addIncident(record);
  const room = await deps.rooms.open(record.id);
  const members = record.members && memberNames(deps, record.members);
  await room.applyServerChange(user.id, (doc) =>
    setMeta(doc, { title: record.title, severity: record.severity, status: record.status, startedAt: now, members }),
  );
  const incident = presentIncident(record);
  deps.events.incidentCreated(incident);
  if (record.alertMatchers) await deps.alertReceiver.attachMatching(record);
  return incident;
}

export async function updateIncident(
  deps: IncidentDeps,
  user: UserRecord,
  incident: IncidentRecord,
  change: { title?: string; severity?: Severity; status?: IncidentStatus; members?: string[] | null; alertMatchers?: string[] | null },
): Promise<Incident> {
  if (change.members !== undefined) await changeMembers(deps, user, incident, change.members);
  if (change.alertMatchers !== undefined) {
    const updated = await deps.store.updateIncident(incident.id, { alertMatchers: change.alertMatchers?.length ? change.alertMatchers : undefined });
    if (updated?.alertMatchers) await deps.alertReceiver.attachMatching(updated);
  }
  const meta: Meta = { title: change.title, severity: change.severity, status: change.status };
  if (change.status === 'resolved' && incident.status !== 'resolved') meta.resolvedAt = new Date().toISOString();
  if (meta.title !== undefined || meta.severity !== undefined || meta.status !== undefined) {
    const room = await deps.rooms.open(incident.id);
    await room.applyServerChange(user.id, (doc) => {
      setMeta(doc, meta);
      if (meta.status !== undefined) resolvedMilestoneFollows(doc);
    });
    await mirrorMeta(deps, incident.id, { ...meta }, readMilestones(room.doc));
  } else if (change.members === undefined) {
    deps.events.incidentUpdated(presentIncident(deps.store.incidentById(incident.id)!));
  }
  return presentIncident(deps.store.incidentById(incident.id)!);
}

const memberNames = (deps: IncidentDeps, ids: string[]) => ids.map((id) => deps.store.userById(id)?.name ?? id).join(', ');

/**
 * Restricts the incident to `members` (its creator always among them) or opens it (`null`). Who did
 * it and when goes into the document's history, by name; the sockets, lists and events of those who
 * can no longer see it are closed or told at once.
 */
async function changeMembers(deps: IncidentDeps, user: UserRecord, incident: IncidentRecord, members: string[] | null): Promise<void> {
  const before = incident.members;
  const after = members === null ? undefined : [...new Set([incident.createdBy, ...members])];
  const updated = (await deps.store.updateIncident(incident.id, { members: after }))!;
  // Sockets of those who lost sight close first: nothing written from here on may reach them.
  deps.access.changed({ incidentId: incident.id });
  const names = after && memberNames(deps, after);
  const room = await deps.rooms.open(incident.id);
  await room.applyServerChange(user.id, (doc) => (names === undefined ? metaOf(doc).delete('members') : metaOf(doc).set('members', names)));
  if (after) deps.events.incidentGone(incident.id, before ? { users: before.filter((id) => !after.includes(id)) } : { everyoneBut: after });
  deps.events.incidentUpdated(presentIncident(updated));
}

/**
 * The `resolved` milestone follows the status (#18), in the same change: resolving sets it (at
 * `meta.resolvedAt`) if it is not set; reopening removes it (the history keeps it).
 */
export function resolvedMilestoneFollows(doc: Y.Doc): void {
  const { status, resolvedAt } = readMeta(doc);
  const milestones = readMilestones(doc);
  if (status === 'resolved' && milestones.resolved === undefined) {
    const at = resolvedAt ?? new Date().toISOString();
    if (resolvedAt === undefined) setMeta(doc, { resolvedAt: at });
    setMilestone(doc, 'resolved', at);
  }
  else if (status !== undefined && status !== 'resolved' && milestones.resolved !== undefined) setMilestone(doc, 'resolved', null);
}

/**
 * The status follows the `resolved` milestone: setting it resolves the incident at that time;
 * removing it from a resolved incident reopens it as `monitoring`.
 */
export function statusFollowsResolvedMilestone(doc: Y.Doc): void {
  const { status } = readMeta(doc);
  const resolved = readMilestones(doc).resolved;
  if (resolved !== undefined) setMeta(doc, { status: 'resolved', resolvedAt: resolved });
  else if (status === 'resolved') setMeta(doc, { status: 'monitoring' });
}

/**
 * After a durable change to `meta` or `milestones`, from the HTTP API or straight into the document
 * (the web app): the incident's record follows it, and the status and the `resolved` milestone are
 * brought back in step if the change left them apart — whichever the change touched leads, and the
 * correction is a change of its own, attributed to the same user. A change that keeps them in step
 * (the HTTP API's) needs none, so this never loops.
 */
export async function followIncidentChange(deps: Pick<IncidentDeps, 'store' | 'events' | 'rooms'>, incidentId: string, change: IncidentChange): Promise<void> {
  await mirrorMeta(deps, incidentId, change.meta, change.milestones);
  const inStep = (meta: Meta, milestones: Record<string, string>) => (meta.status === 'resolved') === (milestones.resolved !== undefined);
  if (inStep(change.meta, change.milestones) || (!change.statusChanged && !change.resolvedChanged)) return;
  const room = deps.rooms.loaded(incidentId);
  if (!room || !deps.store.incidentById(incidentId)) return;
  await room.applyServerChange(change.author, (doc) => {
    if (inStep(readMeta(doc), readMilestones(doc))) return; // someone else has, meanwhile
    if (change.statusChanged) resolvedMilestoneFollows(doc);
    else statusFollowsResolvedMilestone(doc);
  });
}

const sameMilestones = (a: Record<string, string> | undefined, b: Record<string, string>) =>
  Object.keys(a ?? {}).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => a?.[k] === v);

/**
 * Copies valid `meta` values (and the milestones, when given) from the document to the metadata
 * store and announces the change.
 */
export async function mirrorMeta(deps: Pick<IncidentDeps, 'store' | 'events'>, incidentId: string, meta: Meta, milestones?: Record<string, string>): Promise<void> {
  const incident = deps.store.incidentById(incidentId);
  if (!incident) return;
  const change: Partial<IncidentRecord> = {};
  if (milestones && !sameMilestones(incident.milestones, milestones)) change.milestones = Object.keys(milestones).length ? { ...milestones } : undefined;
  if (typeof meta.title === 'string' && meta.title.trim() && meta.title !== incident.title) change.title = meta.title.slice(0, 300);
  if (Severities.includes(meta.severity as Severity) && meta.severity !== incident.severity) change.severity = meta.severity;
  if (IncidentStatuses.includes(meta.status as IncidentStatus) && meta.status !== incident.status) {
    change.status = meta.status;
    change.resolvedAt = meta.status === 'resolved' ? (meta.resolvedAt ?? new Date().toISOString()) : null;
  } else if (meta.status === 'resolved' && incident.status === 'resolved' && meta.resolvedAt && meta.resolvedAt !== incident.resolvedAt) {
    change.resolvedAt = meta.resolvedAt; // resolved again at another time (the resolved milestone moved)
  }
  if (Object.keys(change).length === 0) return;
  const updated = await deps.store.updateIncident(incidentId, change);
  if (updated) deps.events.incidentUpdated(presentIncident(updated));
}
