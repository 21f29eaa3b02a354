/**
 * Admins see and revoke anyone's personal API tokens (each user manages their own with
 * `/api/tokens`, user-routes.ts). A revocation stops requests and closes sockets that use it at once.
 */
import { Router } from 'express';
import type { ApiTokenRecord } from '../store/metadata.js';
import { authenticated, type RouteContext } from './context.js';
import { notFound } from './http-error.js';

const present = (t: ApiTokenRecord) => ({ id: t.id, userId: t.userId, name: t.name, createdAt: t.createdAt, ...(t.lastUsedAt ? { lastUsedAt: t.lastUsedAt } : {}) });

export function tokenAdminRoutes(ctx: RouteContext): Router {
  const router = Router();

  /** Every user's tokens (name, created, last used; never the secret), by user. */
  router.get('/api/admin/tokens', authenticated(ctx.auth, 'admin'), (_req, res) => {
    res.json(ctx.store.listUsers().flatMap((u) => ctx.store.tokensOf(u.id).map((t) => ({ ...present(t), userName: u.name }))));
  });

  router.delete('/api/admin/tokens/:id', authenticated(ctx.auth, 'admin'), async (req, res) => {
    const id = String(req.params.id);
    const [removed] = await ctx.store.removeTokens({ id });
    if (!removed) throw notFound('token');
    ctx.access.changed({ userId: removed.userId });
    ctx.log.info({ token: removed.name, userId: removed.userId }, 'token revoked by an admin');
    res.status(204).end();
  });

  return router;
}
