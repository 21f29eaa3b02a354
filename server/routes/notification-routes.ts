/**
 * Notifications (#20), for admins: destinations (created with their secret shown once, changed,
 * removed), each one's deliveries with their attempts, and retrying a failed delivery.
 */
import { randomBytes } from 'node:crypto';
import { Router } from 'express';
import {
  CreateDestinationRequest, NotificationLimits, UpdateDestinationRequest, type CreatedDestination, type Delivery, type Destination,
} from '../../shared/notifications.js';
import { newId } from '../../shared/schema/doc.js';
import { visibleIncident } from '../auth/authenticate.js';
import type { Notifications } from '../notifications/notifications.js';
import type { AttemptRecord, DeliveryCounts, DestinationRecord, MessageRecord } from '../notifications/notification-store.js';
import type { NotifyConfig } from '../notifications/notify-config.js';
import { urlProblem } from '../notifications/safe-target.js';
import type { UserRecord } from '../store/metadata.js';
import { authenticated, userOf, type RouteContext } from './context.js';
import { HttpError, notFound, parseBody } from './http-error.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const NO_COUNTS: DeliveryCounts = { pending: 0, failed: 0, delivered: 0 };

export function presentDestination(d: DestinationRecord, counts: DeliveryCounts = NO_COUNTS): Destination {
  return {
    id: d.id,
    name: d.name,
    kind: d.kind,
    ...(d.url !== undefined ? { url: d.url } : {}),
    ...(d.roomId !== undefined ? { roomId: d.roomId } : {}),
    ...(d.from !== undefined ? { from: d.from } : {}),
    ...(d.to !== undefined ? { to: d.to } : {}),
    events: d.events,
    digestMinutes: d.digestMinutes,
    restrictedIncidents: d.restrictedIncidents,
    enabled: d.enabled,
    createdAt: d.createdAt,
    createdBy: d.createdBy,
    hasSecret: Boolean(d.secret),
    counts,
  };
}

function presentDelivery(m: MessageRecord & { log: AttemptRecord[] }, canSee: boolean): Delivery {
  return {
    id: m.id,
    destinationId: m.destinationId,
    event: m.event.type,
    incidentId: m.incidentId,
    summary: canSee ? `${m.event.incident.title}: ${m.event.summary}` : 'an incident you cannot see',
    status: m.status,
    createdAt: iso(m.createdAt)!,
    nextAttemptAt: iso(m.nextAttemptAt),
    deliveredAt: iso(m.deliveredAt),
    attempts: m.attempts,
    lastError: m.lastError,
    log: m.log.map(({ messageId: _m, destinationId: _d, ...a }) => a),
  };
}

export function notificationRoutes(ctx: RouteContext, notifications: Notifications, notify: NotifyConfig): Router {
  const router = Router();
  const { store } = notifications;
  const admin = authenticated(ctx.auth, 'admin');

  /** Restricted incidents a destination may receive: each one the admin can see. */
  function checkIncidents(user: UserRecord, ids: string[] | undefined): string[] {
    const unique = [...new Set(ids ?? [])];
    for (const [i, id] of unique.entries()) {
      if (!visibleIncident(ctx.store, user, id)) throw new HttpError(400, `restrictedIncidents.${i}: no such incident: ${id}`, `restrictedIncidents.${i}`);
    }
    return unique;
  }

  router.post('/api/notifications/destinations', admin, async (req, res) => {
    const body = parseBody(CreateDestinationRequest, req.body);
    const user = userOf(res);
    if ((await store.destinations()).length >= NotificationLimits.maxDestinations) {
      throw new HttpError(400, `at most ${NotificationLimits.maxDestinations} destinations; remove one first`);
    }
    const email = body.kind === 'email';
    const problem = await urlProblem(body.url!, notify.allowPrivate, email ? ['smtp:', 'smtps:'] : ['https:', 'http:']);
    if (problem) throw new HttpError(400, `url: ${problem}`, 'url');
    let url = body.url!;
    let secret: string | undefined;
    if (body.kind === 'webhook') secret = `whsec_${randomBytes(24).toString('base64')}`;
    else if (body.kind === 'matrix') secret = body.accessToken;
    else if (email) {
      // The password is the secret; the URL kept (and shown) without it.
      const parsed = new URL(url);
      if (parsed.password) secret = decodeURIComponent(parsed.password);
      parsed.password = '';
      url = parsed.href;
    }
    const destination: DestinationRecord = {
      id: newId(),
      name: body.name,
      kind: body.kind,
      url,
      ...(body.kind === 'matrix' ? { roomId: body.roomId } : {}),
      ...(email ? { from: body.from, to: body.to } : {}),
      events: [...new Set(body.events)],
      digestMinutes: body.digestMinutes ?? NotificationLimits.defaultDigestMinutes,
      restrictedIncidents: checkIncidents(user, body.restrictedIncidents),
      enabled: true,
      createdAt: new Date().toISOString(),
      createdBy: user.id,
      ...(secret !== undefined ? { secret } : {}),
    };
    await store.addDestination(destination);
    ctx.log.info({ destination: destination.id, kind: destination.kind, by: user.name }, 'notification destination added');
    const created: CreatedDestination = { ...presentDestination(destination), ...(body.kind === 'webhook' ? { secret } : {}) };
    res.status(201).json(created);
  });

  router.get('/api/notifications/destinations', admin, async (_req, res) => {
    const counts = await store.counts();
    res.json((await store.destinations()).map((d) => presentDestination(d, counts.get(d.id))));
  });

  router.get('/api/notifications/destinations/:id', admin, async (req, res) => {
    const d = await store.destination(String(req.params.id));
    if (!d) throw notFound('destination');
    res.json(presentDestination(d, (await store.counts()).get(d.id)));
  });

  router.patch('/api/notifications/destinations/:id', admin, async (req, res) => {
    const body = parseBody(UpdateDestinationRequest, req.body);
    const change = {
      ...body,
      ...(body.events ? { events: [...new Set(body.events)] } : {}),
      ...(body.restrictedIncidents ? { restrictedIncidents: checkIncidents(userOf(res), body.restrictedIncidents) } : {}),
    };
    const d = await store.updateDestination(String(req.params.id), change);
    if (!d) throw notFound('destination');
    res.json(presentDestination(d, (await store.counts()).get(d.id)));
  });

  router.delete('/api/notifications/destinations/:id', admin, async (req, res) => {
    if (!(await store.removeDestination(String(req.params.id)))) throw notFound('destination');
    res.status(204).end();
  });

  router.get('/api/notifications/deliveries', admin, async (req, res) => {
    const id = req.query.destination;
    if (typeof id !== 'string' || !id) throw new HttpError(400, 'destination: name the destination, ?destination=<id>', 'destination');
    if (!(await store.destination(id))) throw notFound('destination');
    const limit = req.query.limit === undefined ? 100 : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new HttpError(400, 'limit: a whole number from 1 to 500', 'limit');
    const user = userOf(res);
    const list = await store.deliveries(id, limit);
    res.json(list.map((m) => presentDelivery(m, visibleIncident(ctx.store, user, m.incidentId) !== undefined)));
  });

  router.post('/api/notifications/deliveries/:id/retry', admin, async (req, res) => {
    const m = await store.retry(String(req.params.id), Date.now());
    if (!m) throw notFound('delivery');
    notifications.dispatcher.wake();
    const [full] = (await store.deliveries(m.destinationId, 500)).filter((d) => d.id === m.id);
    res.json(presentDelivery(full ?? { ...m, log: [] }, visibleIncident(ctx.store, userOf(res), m.incidentId) !== undefined));
  });

  return router;
}
