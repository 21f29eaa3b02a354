/**
 * Incidents, their history and their state at any moment. A restricted incident the caller is not
 * a member of answers 404 everywhere, exactly like one that does not exist.
 */
import { Router, type Request, type Response } from 'express';
import { CreateIncidentRequest, UpdateIncidentRequest, type HistoryRecord } from '../../shared/api.js';
import { canSee, visibleIncident } from '../auth/authenticate.js';
import { createIncident, presentIncident, updateIncident } from '../incidents/incident-commands.js';
import { authenticated, requireRole, type RouteContext, userOf } from './context.js';
import { HttpError, notFound, parseBody } from './http-error.js';

/** Parses `?at=` (ISO-8601 with a time zone); absent means now. */
function parseAt(value: unknown): number {
  if (value === undefined) return Date.now();
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    throw new HttpError(400, 'at: expected an ISO-8601 time with a zone, e.g. 2026-03-04T06:12:30.500Z', 'at');
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new HttpError(400, `at: not a valid time: ${value}`, 'at');
  return ms;
}

export function incidentRoutes(ctx: RouteContext): Router {
  const router = Router();
  const deps = { store: ctx.store, rooms: ctx.rooms, events: ctx.events };

  const incidentFor = (req: Request, res: Response) => {
    const incident = visibleIncident(ctx.store, userOf(res), String(req.params.id));
    if (!incident) throw notFound('incident');
    return incident;
  };

  router.post('/api/incidents', authenticated(ctx.auth, 'responder'), async (req, res) => {
    const body = parseBody(CreateIncidentRequest, req.body);
    const unknown = body.members?.find((id) => !ctx.store.userById(id));
    if (unknown) throw new HttpError(400, `members: no user with id ${unknown}`, 'members');
    res.status(201).json(await createIncident(deps, userOf(res), body));
  });

  router.get('/api/incidents', authenticated(ctx.auth), (_req, res) => {
    const user = userOf(res);
    const visible = ctx.store.listIncidents().filter((i) => canSee(user, i));
    res.json(visible.map(presentIncident).sort((a, b) => b.createdAt.localeCompare(a.createdAt)));
  });

  router.get('/api/incidents/:id', authenticated(ctx.auth), (req, res) => {
    res.json(presentIncident(incidentFor(req, res)));
  });

  router.patch('/api/incidents/:id', authenticated(ctx.auth), async (req, res) => {
    const incident = incidentFor(req, res); // 404 before 403: a hidden incident does not exist
    requireRole(userOf(res), 'responder');
    const body = parseBody(UpdateIncidentRequest, req.body);
    const unknown = body.members?.find((id) => !ctx.store.userById(id));
    if (unknown) throw new HttpError(400, `members: no user with id ${unknown}`, 'members');
    res.json(await updateIncident(deps, userOf(res), incident, body));
  });

  /** Every update in order: who, when (server time, UTC), how big. `?after=<seq>&limit=<n>` pages. */
  router.get('/api/incidents/:id/history', authenticated(ctx.auth), async (req, res) => {
    const incident = incidentFor(req, res);
    const after = Number(req.query.after ?? 0);
    const limit = Number(req.query.limit ?? Number.MAX_SAFE_INTEGER);
    if (!Number.isInteger(after) || after < 0) throw new HttpError(400, 'after: expected a sequence number', 'after');
    if (!Number.isInteger(limit) || limit < 1) throw new HttpError(400, 'limit: expected a positive integer', 'limit');
    const names = new Map(ctx.store.listUsers().map((u) => [u.id, u.name]));
    const room = ctx.rooms.loaded(incident.id);
    const out: HistoryRecord[] = [];
    for await (const { record } of ctx.rooms.historyOf(incident.id).records({ limit: room?.durableLogBytes })) {
      if (record.seq <= after) continue;
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

  /** The document as it was after every update received at or before `at`, as a Yjs update. */
  router.get('/api/incidents/:id/state', authenticated(ctx.auth), async (req, res) => {
    const incident = incidentFor(req, res);
    const at = parseAt(req.query.at);
    const room = ctx.rooms.loaded(incident.id);
    const state = await ctx.rooms.historyOf(incident.id).stateAt(ctx.log, at, room?.durableLogBytes);
    res.type('application/octet-stream').send(Buffer.from(state));
  });

  return router;
}
