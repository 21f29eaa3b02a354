/**
 * Alerts: webhooks for monitoring systems (each integration its own bearer token, rate limited),
 * integrations for admins, and alerts for responders — list, attach, detach, suggest, declare.
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import { AlertSources, type AlertSource } from '../../shared/alerts.js';
import { AttachAlertRequest, CreateIntegrationRequest, DeclareFromAlertRequest } from '../../shared/api.js';
import { newId } from '../../shared/schema/doc.js';
import type { AlertRecord, IntegrationRecord } from '../alerts/alert-store.js';
import { PayloadError } from '../alerts/payloads.js';
import { isOn } from '../alerts/alert-receiver.js';
import { suggestAlerts } from '../alerts/suggestions.js';
import { visibleIncident } from '../auth/authenticate.js';
import { hashToken, newToken } from '../auth/secrets.js';
import { createIncident } from '../incidents/incident-commands.js';
import { authenticated, requireRole, type RouteContext, requestedIncident, sharedRedis, userOf } from './context.js';
import { limitStore } from '../auth/shared-limits.js';
import { HttpError, notFound, parseBody, parseTime } from './http-error.js';

const HOOK_WINDOW_MS = 10_000;
/** Per integration and window: far above a real sender (Alertmanager batches), far below a flood. */
const HOOK_LIMIT = 100;

export function alertRoutes(ctx: RouteContext): Router {
  const router = Router();
  const { alerts, alertReceiver: receiver } = ctx;

  const integrationOf = (res: Response) => res.locals.integration as IntegrationRecord;
  function integrationToken(req: Request, res: Response, next: NextFunction): void {
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : '';
    const hash = token ? hashToken(token) : '';
    const integration = token ? alerts.integrations().find((i) => i.tokenHash === hash) : undefined;
    if (!integration) return next(new HttpError(401, 'a valid integration token is required: Authorization: Bearer <token>'));
    if (integration.revokedAt) return next(new HttpError(401, `this integration token was revoked at ${integration.revokedAt}`));
    res.locals.integration = integration;
    next();
  }
  const hookLimiter = rateLimit({
    store: limitStore(sharedRedis(ctx), 'hooks'),
    windowMs: HOOK_WINDOW_MS,
    limit: HOOK_LIMIT,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (_req, res) => integrationOf(res).id,
    handler: (_req, res) => {
      res.status(429).json({ error: `too many webhook calls from this integration (over ${HOOK_LIMIT} in ${HOOK_WINDOW_MS / 1000} s); retry later` });
    },
  });

  router.post('/api/hooks/:source', integrationToken, hookLimiter, async (req, res) => {
    const source = String(req.params.source) as AlertSource;
    if (!AlertSources.includes(source)) throw notFound('webhook');
    const integration = integrationOf(res);
    if (integration.kind !== source) throw new HttpError(403, `this token belongs to a ${integration.kind} integration; post to /api/hooks/${integration.kind}`);
    try {
      res.json(await receiver.receive(integration, source, req.body));
    } catch (err) {
      if (err instanceof PayloadError) throw new HttpError(400, err.message, err.field);
      throw err;
    }
  });

  router.post('/api/integrations', authenticated(ctx.auth, 'admin'), async (req, res) => {
    const body = parseBody(CreateIntegrationRequest, req.body);
    const token = newToken('bli_');
    const integration: IntegrationRecord = { id: newId(), name: body.name, kind: body.kind, createdAt: new Date().toISOString(), tokenHash: hashToken(token) };
    await alerts.addIntegration(integration);
    res.status(201).json({ id: integration.id, name: integration.name, kind: integration.kind, createdAt: integration.createdAt, token });
  });

  /** Each integration with when an alert it sent last arrived or changed (`lastAlertAt`), for admins checking a sender works. */
  router.get('/api/integrations', authenticated(ctx.auth, 'admin'), (_req, res) => {
    const last = new Map<string, string>();
    for (const a of alerts.alerts()) if ((last.get(a.integrationId) ?? '') < a.updatedAt) last.set(a.integrationId, a.updatedAt);
    res.json(alerts.integrations().map(({ tokenHash: _hash, ...integration }) => ({ ...integration, ...(last.has(integration.id) ? { lastAlertAt: last.get(integration.id) } : {}) })));
  });

  router.delete('/api/integrations/:id', authenticated(ctx.auth, 'admin'), async (req, res) => {
    if (!(await alerts.revokeIntegration(String(req.params.id)))) throw notFound('integration');
    res.status(204).end();
  });

  const alertFor = (req: Request, res: Response, id: string): AlertRecord => {
    const record = alerts.alertById(id);
    if (!record || !receiver.visibleTo(userOf(res), record)) throw notFound('alert');
    return record;
  };
  const incidentFor = (req: Request, res: Response) => requestedIncident(ctx.store, req, res);
  const newestFirst = (a: AlertRecord, b: AlertRecord) => b.startsAt.localeCompare(a.startsAt);

  /**
   * `?incident=<id>`: that incident's alerts (with `&include=detached`, also those attached once and
   * detached since: a replay needs them); `?inbox=true`: alerts on no incident; else all. Always only
   * alerts you may see (an alert detached from this incident may be on a restricted one now).
   */
  router.get('/api/alerts', authenticated(ctx.auth), (req, res) => {
    const user = userOf(res);
    let list: AlertRecord[];
    if (typeof req.query.incident === 'string') {
      const incident = visibleIncident(ctx.store, user, req.query.incident);
      if (!incident) throw notFound('incident');
      const include = req.query.include;
      if (include !== undefined && include !== 'detached') throw new HttpError(400, 'include: expected "detached"', 'include');
      const detachedToo = include === 'detached';
      list = alerts.alerts().filter((a) => isOn(a, incident.id, detachedToo));
    } else if (req.query.inbox === 'true' || req.query.inbox === '1') {
      list = alerts.alerts().filter((a) => a.incidents.length === 0);
    } else {
      list = alerts.alerts();
    }
    list = list.filter((a) => receiver.visibleTo(user, a));
    res.json(list.sort(newestFirst).map((a) => receiver.present(user, a)));
  });

  router.get('/api/alerts/:id', authenticated(ctx.auth), (req, res) => {
    res.json(receiver.present(userOf(res), alertFor(req, res, String(req.params.id))));
  });

  /** Declares an incident from an alert in the inbox, with the alert attached. */
  router.post('/api/alerts/:id/declare', authenticated(ctx.auth, 'responder'), async (req, res) => {
    const record = alertFor(req, res, String(req.params.id));
    const body = parseBody(DeclareFromAlertRequest, req.body ?? {});
    const incident = await createIncident(ctx, userOf(res), { title: body.title ?? record.title, severity: body.severity, alertMatchers: body.alertMatchers, declaredFrom: record.id });
    await receiver.attach(record, incident.id, userOf(res).id);
    res.status(201).json(incident);
  });

  router.post('/api/incidents/:id/alerts', authenticated(ctx.auth), async (req, res) => {
    const incident = incidentFor(req, res);
    requireRole(userOf(res), 'responder');
    const record = alertFor(req, res, parseBody(AttachAlertRequest, req.body).alertId);
    res.json(receiver.present(userOf(res), await receiver.attach(record, incident.id, userOf(res).id)));
  });

  router.delete('/api/incidents/:id/alerts/:alertId', authenticated(ctx.auth), async (req, res) => {
    const incident = incidentFor(req, res);
    requireRole(userOf(res), 'responder');
    const record = alertFor(req, res, String(req.params.alertId));
    res.json(receiver.present(userOf(res), await receiver.detach(record, incident.id, userOf(res).id)));
  });

  /** Alerts a test run at `?at=` probably relates to, best first, each with the reason. */
  router.get('/api/incidents/:id/alert-suggestions', authenticated(ctx.auth), (req, res) => {
    const incident = incidentFor(req, res);
    const user = userOf(res);
    const at = parseTime(req.query.at);
    const candidates = alerts.alerts().filter((a) => receiver.visibleTo(user, a));
    // Another incident an alert is on is named only to those who may see it (a restricted one never is).
    const titleOf = (id: string) => visibleIncident(ctx.store, user, id)?.title;
    res.json(suggestAlerts(incident, candidates, at, Date.now(), 10, titleOf).map((s) => ({ ...s, alert: receiver.present(user, s.alert) })));
  });

  return router;
}
