/** Liveness, readiness, Prometheus metrics and the server clock: what operators, load balancers and clients poll. */
import { Router, type RequestHandler } from 'express';
import { hashToken } from '../auth/secrets.js';
import { requireRole, type RouteContext } from './context.js';
import { HttpError } from './http-error.js';

/**
 * Metrics tell how many are connected and how busy the server is: Prometheus scrapes them with
 * METRICS_TOKEN, an admin may look, and METRICS_PUBLIC opens them (a private network).
 */
function mayScrape(ctx: RouteContext): RequestHandler {
  const { metricsToken, metricsPublic } = ctx.config;
  const tokenHash = metricsToken ? hashToken(metricsToken) : undefined;
  return (req, _res, next) => {
    if (metricsPublic) return next();
    const header = req.headers.authorization;
    if (tokenHash && header?.startsWith('Bearer ') && hashToken(header.slice(7).trim()) === tokenHash) return next();
    const user = ctx.auth.fromRequest(req);
    if (!user) {
      return next(new HttpError(401, 'metrics need a login: send METRICS_TOKEN as "Authorization: Bearer <token>", or log in as an admin (METRICS_PUBLIC=true opens them to all)'));
    }
    requireRole(user, 'admin');
    next();
  };
}

export function systemRoutes(ctx: RouteContext): Router {
  const router = Router();

  // The process is up (liveness): restart it if not.
  router.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });

  // This node can serve (readiness, what HAProxy checks): its storage is reachable and migrated.
  router.get('/readyz', (_req, res) => {
    const { ok, reason } = ctx.storage.readiness();
    res.set('Cache-Control', 'no-store');
    if (ok) return void res.json({ ok: true, mode: ctx.storage.mode, node: ctx.config.nodeId });
    res.status(503).set('Retry-After', '2').json({ ok: false, error: reason ?? 'storage unavailable', node: ctx.config.nodeId });
  });

  router.get('/metrics', mayScrape(ctx), async (_req, res) => {
    res.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });

  /**
   * The server's clock, for clients to correct their own (see shared/clock.ts): send several requests,
   * keep the one with the shortest round trip.
   */
  router.get('/api/clock', (_req, res) => {
    const now = Date.now();
    res.set('Cache-Control', 'no-store').json({ serverTime: now, iso: new Date(now).toISOString() });
  });

  return router;
}
