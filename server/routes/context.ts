/** What every route needs, and the middleware that puts the authenticated user on the request. */
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import { isRedisBus } from '../storage/redis/redis-bus.js';
import type { Storage } from '../storage/storage.js';
import type { Role } from '../../shared/api.js';
import type { AlertReceiver } from '../alerts/alert-receiver.js';
import type { AlertStore } from '../alerts/alert-store.js';
import type { AccessChanges } from '../auth/access-changes.js';
import type { TimeShare } from '../collab/time-share.js';
import type { Authorship } from '../history/authorship.js';
import type { Replays } from '../history/replay.js';
import type { SeenMarks } from '../store/seen-marks.js';
import { hasRole, visibleIncident, type Authenticator } from '../auth/authenticate.js';
import type { IncidentRooms } from '../collab/incident-rooms.js';
import type { Config } from '../config.js';
import type { AppEvents } from '../events/app-events.js';
import type { Metrics } from '../metrics.js';
import type { IncidentRecord, MetadataStore, UserRecord } from '../store/metadata.js';
import { HttpError, notFound } from './http-error.js';

export interface RouteContext {
  config: Config;
  store: MetadataStore;
  auth: Authenticator;
  rooms: IncidentRooms;
  events: AppEvents;
  metrics: Metrics;
  log: Logger;
  alerts: AlertStore;
  alertReceiver: AlertReceiver;
  /** Who wrote each entry, folded in from the update logs as they grow (shared by every route). */
  authorship: Authorship;
  /** Replays of incident histories (the timeline, replay and catch-up), built on first use. */
  replays: Replays;
  /** Where each user last left each incident. */
  seen: SeenMarks;
  /** Announce here whatever takes access away (logout, revocation, roles, members): open sockets follow. */
  access: AccessChanges;
  /** Each user's share of the server's time: their reads that grow with an incident are charged (paced.ts). */
  timeShare: TimeShare;
  /** Where everything durable lives (embedded files or PostgreSQL), and whether it can be reached. */
  storage: Storage;
}

/** The user authenticated by `authenticated()`. */
export function userOf(res: Response): UserRecord {
  return res.locals.user as UserRecord;
}

/** The incident named by `:id`; one the caller may not see is a 404, exactly like one that does not exist. */
export function requestedIncident(store: MetadataStore, req: Request, res: Response): IncidentRecord {
  const incident = visibleIncident(store, userOf(res), String(req.params.id));
  if (!incident) throw notFound('incident');
  return incident;
}

export function requireRole(user: UserRecord, role: Role): void {
  if (!hasRole(user, role)) throw new HttpError(403, `this needs the ${role} role; you are ${user.role}`);
}

/** Per authenticator (one per app): how to let this node's catalog catch up, in PostgreSQL mode. */
const catchUps = new WeakMap<Authenticator, { store: MetadataStore; catchUp: () => Promise<void> }>();

/**
 * With several nodes, a token, session or incident this node does not know yet may have been
 * created on another node a moment ago: `authenticated()` then awaits `catchUp` (bounded;
 * Storage.catalogCaughtUp) once before answering 401, or letting the route answer 404.
 */
export function catchUpBeforeRefusing(auth: Authenticator, store: MetadataStore, catchUp: () => Promise<void>): void {
  catchUps.set(auth, { store, catchUp });
}

/** Puts the authenticated user on the request, or answers 401 (403 below `role`). */
export function authenticated(auth: Authenticator, role: Role = 'viewer') {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    let user = auth.fromRequest(req);
    const lagging = catchUps.get(auth);
    if (lagging) {
      const id = req.params.id;
      const incidentUnknown = typeof id === 'string' && req.path.startsWith('/api/incidents/') && user !== undefined && !visibleIncident(lagging.store, user, id);
      if (!user || incidentUnknown) {
        await lagging.catchUp();
        user = auth.fromRequest(req);
      }
    }
    if (!user) return next(new HttpError(401, 'authentication required: log in, or send Authorization: Bearer <token>'));
    res.locals.user = user;
    try {
      requireRole(user, role);
    } catch (err) {
      return next(err);
    }
    next();
  };
}

/** The Redis connection rate limits are counted on when several nodes share one (else undefined: in memory). */
export function sharedRedis(ctx: RouteContext): Redis | undefined {
  return isRedisBus(ctx.storage.bus) ? ctx.storage.bus.pub : undefined;
}
