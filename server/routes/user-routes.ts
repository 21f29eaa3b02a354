import { Router } from 'express';
import { CreateUserRequest, type CreatedUser } from '../../shared/api.js';
import { newId } from '../../shared/schema/doc.js';
import { publicUser } from '../auth/authenticate.js';
import { hashPassword, hashToken, newToken } from '../auth/secrets.js';
import { authenticated, type RouteContext } from './context.js';
import { HttpError, parseBody } from './http-error.js';

export function userRoutes(ctx: RouteContext): Router {
  const router = Router();

  /** Creates a user; the answer holds their API token, which is shown only this once. */
  router.post('/api/users', authenticated(ctx.auth, 'admin'), async (req, res) => {
    const body = parseBody(CreateUserRequest, req.body);
    if (ctx.store.userByName(body.name)) throw new HttpError(409, `a user named ${body.name} already exists`, 'name');
    const token = newToken('bl_');
    const user = {
      id: newId(),
      name: body.name,
      role: body.role,
      tokenHash: hashToken(token),
      createdAt: new Date().toISOString(),
      ...(body.password ? { passwordHash: await hashPassword(body.password) } : {}),
    };
    await ctx.store.addUser(user);
    const created: CreatedUser = { ...publicUser(user), token };
    res.status(201).json(created);
  });

  /** Everyone signed in may list users: to pick members of a restricted incident, to show names. */
  router.get('/api/users', authenticated(ctx.auth), (_req, res) => {
    res.json(ctx.store.listUsers().map(publicUser));
  });

  return router;
}
