/**
 * Users (admins create them, change their role, remove them) and each user's own API tokens. Every
 * change that takes access away is announced to `ctx.access`, which closes the sockets that lost it.
 */
import { Router } from 'express';
import { CreateTokenRequest, CreateUserRequest, UpdateUserRequest, type ApiToken, type CreatedApiToken, type CreatedUser, type UserDetails } from '../../shared/api.js';
import { newId } from '../../shared/schema/doc.js';
import { publicUser } from '../auth/authenticate.js';
import { hashPassword, hashToken, newToken } from '../auth/secrets.js';
import type { ApiTokenRecord, UserRecord } from '../store/metadata.js';
import { authenticated, type RouteContext, userOf } from './context.js';
import { HttpError, notFound, parseBody } from './http-error.js';

const presentToken = (t: ApiTokenRecord): ApiToken => ({ id: t.id, name: t.name, createdAt: t.createdAt, ...(t.lastUsedAt ? { lastUsedAt: t.lastUsedAt } : {}) });
const presentDetails = (u: UserRecord): UserDetails => ({ ...publicUser(u), createdAt: u.createdAt, ...(u.deactivatedAt ? { deactivatedAt: u.deactivatedAt } : {}) });

export function userRoutes(ctx: RouteContext): Router {
  const router = Router();
  const { store } = ctx;

  /** Refuses a change that would leave no active admin (nobody could manage users any more). */
  function keepAnAdmin(losing: UserRecord): void {
    if (losing.role !== 'admin' || losing.deactivatedAt) return;
    if (store.listUsers().some((u) => u.id !== losing.id && u.role === 'admin' && !u.deactivatedAt)) return;
    throw new HttpError(409, `${losing.name} is the last admin; make someone else an admin first`);
  }

  async function issueToken(user: UserRecord, name: string): Promise<CreatedApiToken> {
    const token = newToken('bl_');
    const record: ApiTokenRecord = { id: newId(), userId: user.id, name, tokenHash: hashToken(token), createdAt: new Date().toISOString() };
    await store.addToken(record);
    return { ...presentToken(record), token };
  }

  /** Creates a user; the answer holds their first API token, which is shown only this once. */
  router.post('/api/users', authenticated(ctx.auth, 'admin'), async (req, res) => {
    const body = parseBody(CreateUserRequest, req.body);
    if (store.userByName(body.name)) throw new HttpError(409, `a user named ${body.name} already exists`, 'name');
    const user: UserRecord = {
      id: newId(),
      name: body.name,
      role: body.role,
      createdAt: new Date().toISOString(),
      ...(body.password ? { passwordHash: await hashPassword(body.password) } : {}),
    };
    await store.addUser(user);
    const { token } = await issueToken(user, 'created with the account');
    const created: CreatedUser = { ...publicUser(user), token };
    res.status(201).json(created);
  });

  /**
   * Everyone signed in may list users: to pick members of a restricted incident, to show names.
   * Removed users are listed too (their names are in the history), marked with `deactivatedAt`.
   */
  router.get('/api/users', authenticated(ctx.auth), (_req, res) => {
    res.json(store.listUsers().map(presentDetails));
  });

  /**
   * An admin changes a user's role or removes them (`active: false`: sessions and tokens end at once,
   * open sockets close; the account stays for the history's names) or brings them back.
   */
  /** Changes a user's role and whether they are active; removing them ends their sessions and tokens. */
  async function changeUser(by: UserRecord, id: string, body: { role?: UserRecord['role']; active?: boolean }): Promise<UserRecord> {
    const user = store.userById(id);
    if (!user) throw notFound('user');
    if ((body.role !== undefined && body.role !== 'admin') || body.active === false) keepAnAdmin(user);
    const change: Partial<Pick<UserRecord, 'role' | 'deactivatedAt'>> = {};
    if (body.role !== undefined) change.role = body.role;
    if (body.active === false && !user.deactivatedAt) change.deactivatedAt = new Date().toISOString();
    if (body.active === true) change.deactivatedAt = undefined;
    const updated = (await store.updateUser(user.id, change))!;
    if (body.active === false) {
      await store.removeSessionsOf(user.id);
      await store.removeTokens({ userId: user.id });
    }
    ctx.log.info({ by: by.name, user: user.name, role: updated.role, deactivated: Boolean(updated.deactivatedAt) }, 'user changed');
    ctx.access.changed({ userId: user.id });
    return updated;
  }

  router.patch('/api/users/:id', authenticated(ctx.auth, 'admin'), async (req, res) => {
    const body = parseBody(UpdateUserRequest, req.body);
    res.json(presentDetails(await changeUser(userOf(res), String(req.params.id), body)));
  });

  /** Removes a user: the same as `PATCH {active: false}`. */
  router.delete('/api/users/:id', authenticated(ctx.auth, 'admin'), async (req, res) => {
    await changeUser(userOf(res), String(req.params.id), { active: false });
    res.status(204).end();
  });

  /** Your own API tokens: name, created, last used (never the secret). */
  router.get('/api/tokens', authenticated(ctx.auth), (_req, res) => {
    res.json(store.tokensOf(userOf(res).id).map(presentToken));
  });

  /** A new API token of your own, shown this once. Rotate by creating one and revoking the old. */
  router.post('/api/tokens', authenticated(ctx.auth), async (req, res) => {
    const body = parseBody(CreateTokenRequest, req.body);
    if (store.tokensOf(userOf(res).id).length >= MAX_TOKENS_PER_USER) {
      throw new HttpError(409, `you have ${MAX_TOKENS_PER_USER} tokens already; revoke one first`);
    }
    res.status(201).json(await issueToken(userOf(res), body.name));
  });

  /** Revokes one of your tokens: requests and open sockets that use it stop at once. */
  router.delete('/api/tokens/:id', authenticated(ctx.auth), async (req, res) => {
    const user = userOf(res);
    const token = store.tokensOf(user.id).find((t) => t.id === String(req.params.id));
    if (!token) throw notFound('token');
    await store.removeTokens({ id: token.id });
    ctx.access.changed({ userId: user.id });
    res.status(204).end();
  });

  return router;
}

const MAX_TOKENS_PER_USER = 50;
