/**
 * An incident's milestones (#18, docs/api.md "Milestones"): read with who set each (from the
 * history), the durations and suggestions; set and removed by responders through the document.
 */
import { Router, type Request, type Response } from 'express';
import { SetMilestoneRequest } from '../../shared/api.js';
import { durationsOf, type IncidentMilestones } from '../../shared/schema/milestones.js';
import { readMeta } from '../../shared/schema/doc.js';
import { alertsEverOn } from '../alerts/alert-receiver.js';
import { milestoneViews, removeIncidentMilestone, setIncidentMilestone, suggestMilestones } from '../incidents/milestone-commands.js';
import type { IncidentRecord } from '../store/metadata.js';
import { paced } from './paced.js';
import { authenticated, requireRole, type RouteContext, requestedIncident, userOf } from './context.js';
import { parseBody } from './http-error.js';

export function milestoneRoutes(ctx: RouteContext): Router {
  const router = Router();
  const deps = { store: ctx.store, rooms: ctx.rooms, events: ctx.events, alertReceiver: ctx.alertReceiver, access: ctx.access };
  const incidentFor = (req: Request, res: Response) => requestedIncident(ctx.store, req, res);
  const nameOf = (req: Request) => String(req.params.name);

  /** The live document and who set each of its milestones, caught up with the history. */
  async function viewsOf(incident: IncidentRecord) {
    const room = await ctx.rooms.open(incident.id);
    const authorship = ctx.authorship.of(incident.id, ctx.rooms.logOf(incident.id));
    await authorship.catchUp(room.doc, room.lastSeq);
    const names = new Map(ctx.store.listUsers().map((u) => [u.id, u.name]));
    const views = milestoneViews(room.doc, (name) => authorship.milestoneWriter(room.doc, name), (id) => ({ id, name: names.get(id) ?? id }));
    return { room, views };
  }

  router.get('/api/incidents/:id/milestones', authenticated(ctx.auth), paced(ctx.timeShare), async (req, res) => {
    const incident = incidentFor(req, res);
    const { room, views } = await viewsOf(incident);
    const user = userOf(res);
    const alerts = alertsEverOn(ctx.alerts.alerts().filter((a) => ctx.alertReceiver.visibleTo(user, a)), incident.id);
    const milestones = Object.fromEntries(views.map((m) => [m.name, m.at]));
    const out: IncidentMilestones = {
      milestones: views,
      durations: durationsOf(milestones, { open: readMeta(room.doc).status !== 'resolved', now: Date.now() }),
      suggestions: suggestMilestones(room.doc, incident, alerts),
    };
    res.json(out);
  });

  router.put('/api/incidents/:id/milestones/:name', authenticated(ctx.auth), async (req, res) => {
    const incident = incidentFor(req, res); // 404 before 403: a hidden incident does not exist
    requireRole(userOf(res), 'responder');
    const body = parseBody(SetMilestoneRequest, req.body ?? {});
    const name = nameOf(req);
    await setIncidentMilestone(deps, userOf(res), incident, name, body.at);
    const { views } = await viewsOf(incident);
    res.json(views.find((m) => m.name === name));
  });

  router.delete('/api/incidents/:id/milestones/:name', authenticated(ctx.auth), async (req, res) => {
    const incident = incidentFor(req, res);
    requireRole(userOf(res), 'responder');
    await removeIncidentMilestone(deps, userOf(res), incident, nameOf(req));
    res.status(204).end();
  });

  return router;
}
