/** Readiness, Prometheus metrics and the server clock: what operators and clients poll. */
import { Router } from 'express';
import type { RouteContext } from './context.js';

export function systemRoutes(ctx: RouteContext): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });

  router.get('/metrics', async (_req, res) => {
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
