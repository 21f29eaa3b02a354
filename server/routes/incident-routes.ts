/**
 * Incidents, their history and their state at any moment. A restricted incident the caller is not
 * a member of answers 404 everywhere, exactly like one that does not exist.
 */
import { isGroupMember, validGroupMember } from '../../shared/members.js';
import { Router, type Request, type Response } from 'express';
import { CreateIncidentRequest, UpdateIncidentRequest, type HistoryRecord, type IncidentAuthors, type UserRef } from '../../shared/api.js';
import { createIncident, presentIncident, updateIncident } from '../incidents/incident-commands.js';
import { stateAt } from '../history/state-at.js';
import { paced } from './paced.js';
import { authenticated, requireRole, type RouteContext, requestedIncident, userOf } from './context.js';
import { HttpError, parseBody, parseTime } from './http-error.js';

export function incidentRoutes(ctx: RouteContext): Router {
  const router = Router();
  const deps = { store: ctx.store, rooms: ctx.rooms, events: ctx.events, alertReceiver: ctx.alertReceiver, access: ctx.access };

  const incidentFor = (req: Request, res: Response) => requestedIncident(ctx.store, req, res);

  /** Members are users (by id) or IdP groups (`group:<name>`, any group the IdP may send). */
  function checkMembers(members: string[] | null | undefined): void {
    const badGroup = members?.find((m) => isGroupMember(m) && !validGroupMember(m));
    if (badGroup !== undefined) throw new HttpError(400, `members: "${badGroup.slice(0, 60)}" is not a group name (group:<name>, no commas)`, 'members');
    const unknown = members?.find((id) => !isGroupMember(id) && !ctx.store.userById(id));
    if (unknown) throw new HttpError(400, `members: no user with id ${unknown}`, 'members');
  }

  router.post('/api/incidents', authenticated(ctx.auth, 'responder'), async (req, res) => {
    const body = parseBody(CreateIncidentRequest, req.body);
    checkMembers(body.members);
    res.status(201).json(await createIncident(deps, userOf(res), body));
  });

  // GET /api/incidents (the list, with filters and durations) is in overview-routes.ts.

  /** The incident, and `logDamage` when part of its history on disk is damaged (users see a warning). */
  router.get('/api/incidents/:id', authenticated(ctx.auth), async (req, res) => {
    const incident = incidentFor(req, res);
    const logDamage = await ctx.rooms.logOf(incident.id).damage();
    res.json({ ...presentIncident(incident), ...(logDamage ? { logDamage } : {}) });
  });

  router.patch('/api/incidents/:id', authenticated(ctx.auth), async (req, res) => {
    const incident = incidentFor(req, res); // 404 before 403: a hidden incident does not exist
    requireRole(userOf(res), 'responder');
    const body = parseBody(UpdateIncidentRequest, req.body);
    // Who may see a (security) incident is for whoever leads it, not for every responder.
    const user = userOf(res);
    if (body.members !== undefined && user.id !== incident.createdBy && user.role !== 'admin') {
      throw new HttpError(403, "only the incident's creator or an admin may change who it is restricted to", 'members');
    }
    checkMembers(body.members);
    res.json(await updateIncident(deps, userOf(res), incident, body));
  });

  /** Every update in order: who, when (server time, UTC), how big. `?after=<seq>&limit=<n>` pages. */
  router.get('/api/incidents/:id/history', authenticated(ctx.auth), paced(ctx.timeShare), async (req, res) => {
    const incident = incidentFor(req, res);
    const after = Number(req.query.after ?? 0);
    const limit = Number(req.query.limit ?? Number.MAX_SAFE_INTEGER);
    if (!Number.isInteger(after) || after < 0) throw new HttpError(400, 'after: expected a sequence number', 'after');
    if (!Number.isInteger(limit) || limit < 1) throw new HttpError(400, 'limit: expected a positive integer', 'limit');
    const names = new Map(ctx.store.listUsers().map((u) => [u.id, u.name]));
    const room = ctx.rooms.loaded(incident.id);
    const out: HistoryRecord[] = [];
    for await (const record of ctx.rooms.logOf(incident.id).records({ after, upTo: room?.lastSeq })) {
      out.push({
        seq: record.seq,
        at: new Date(record.at).toISOString(),
        userId: record.userId,
        userName: names.get(record.userId) ?? record.userId,
        bytes: record.update.length,
      });
      if (out.length >= limit) break;
    }
    res.json(out);
  });

  /**
   * Who created each entry and when it was logged, and who changed it since, from the history.
   * `?after=<seq>` answers only the entries changed after that point (the `seq` of an earlier answer).
   */
  router.get('/api/incidents/:id/authors', authenticated(ctx.auth), paced(ctx.timeShare), async (req, res) => {
    const incident = incidentFor(req, res);
    const after = Number(req.query.after ?? 0);
    if (!Number.isInteger(after) || after < 0) throw new HttpError(400, 'after: expected a sequence number', 'after');
    const room = await ctx.rooms.open(incident.id);
    const authorship = ctx.authorship.of(incident.id, ctx.rooms.logOf(incident.id));
    await authorship.catchUp(room.doc, room.lastSeq);
    const users = new Map(ctx.store.listUsers().map((u) => [u.id, u.name]));
    const ref = (id: string): UserRef => ({ id, name: users.get(id) ?? id });
    const out: IncidentAuthors = { seq: authorship.seq, entries: {} };
    for (const [id, entry] of authorship.entries) {
      if (entry.seq <= after) continue;
      const deletion = authorship.deletionOf(room.doc, id);
      out.entries[id] = {
        createdBy: ref(entry.createdBy),
        loggedAt: new Date(entry.loggedAt).toISOString(),
        editors: entry.editors.map(ref),
        ...(entry.editedAt !== undefined ? { editedAt: new Date(entry.editedAt).toISOString() } : {}),
        ...(deletion ? { deletedBy: ref(deletion.userId), deletedAt: new Date(deletion.at).toISOString() } : {}),
      };
    }
    res.json(out);
  });

  /** The document as it was after every update received at or before `at`, as a Yjs update. */
  router.get('/api/incidents/:id/state', authenticated(ctx.auth), paced(ctx.timeShare), async (req, res) => {
    const incident = incidentFor(req, res);
    const at = parseTime(req.query.at);
    const room = ctx.rooms.loaded(incident.id);
    const state = await stateAt(ctx.rooms.logOf(incident.id), at, room?.lastSeq);
    res.type('application/octet-stream').send(Buffer.from(state));
  });

  return router;
}
