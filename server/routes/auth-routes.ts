/**
 * Sessions and first-run setup. Failed logins are limited per account and per address
 * (auth/login-limits.ts); passwords are scrypt hashes, checked in the same time whether or not the
 * account exists; the session cookie is HttpOnly and SameSite=Lax, and only its hash is stored.
 */
import { Router, type Response } from 'express';
import { parse as parseCookies } from 'cookie';
import { LoginRequest, SetupRequest } from '../../shared/api.js';
import { newId } from '../../shared/schema/doc.js';
import { SESSION_COOKIE, publicUser } from '../auth/authenticate.js';
import { startSession as startOn } from '../auth/start-session.js';
import { loginLimiters } from '../auth/login-limits.js';
import { hashPassword, hashToken, newToken, verifyPassword } from '../auth/secrets.js';
import type { UserRecord } from '../store/metadata.js';
import { authenticated, type RouteContext, sharedRedis, userOf } from './context.js';
import { HttpError, parseBody } from './http-error.js';

/** The one-time first-run setup token, while there are no users (kept in memory only). */
export class SetupToken {
  private token: string | undefined;
  issue(): string {
    this.token = newToken('setup_');
    return this.token;
  }
  get pending(): boolean {
    return this.token !== undefined;
  }
  consume(token: string): boolean {
    if (!this.token || hashToken(token) !== hashToken(this.token)) return false;
    this.token = undefined;
    return true;
  }
}

export function authRoutes(ctx: RouteContext, setup: SetupToken): Router {
  const router = Router();
  const limitLogins = loginLimiters(sharedRedis(ctx));

  const startSession = (res: Response, user: UserRecord) => startOn(ctx, res, user);

  router.get('/api/auth/setup', (_req, res) => {
    res.json({ needed: setup.pending });
  });

  router.post('/api/auth/setup', ...limitLogins, async (req, res) => {
    const body = parseBody(SetupRequest, req.body);
    if (ctx.store.countUsers() > 0 || !setup.consume(body.token)) {
      throw new HttpError(403, 'this setup link is not valid (it works once, on a server with no users)');
    }
    const user: UserRecord = {
      id: newId(),
      name: body.name,
      role: 'admin',
      passwordHash: await hashPassword(body.password),
      createdAt: new Date().toISOString(),
    };
    await ctx.store.addUser(user);
    ctx.log.info({ user: user.name }, 'first admin created through the setup link');
    await startSession(res, user);
    res.status(201).json(publicUser(user));
  });

  router.post('/api/auth/login', ...limitLogins, async (req, res) => {
    const body = parseBody(LoginRequest, req.body);
    const user = ctx.store.userByName(body.name);
    const ok = await verifyPassword(body.password, user?.passwordHash);
    // A removed user gets the same answer as a wrong password: their account is no way in.
    if (!user || !ok || user.deactivatedAt) throw new HttpError(401, 'wrong name or password');
    await startSession(res, user);
    res.json(publicUser(user));
  });

  router.post('/api/auth/logout', async (req, res) => {
    const token = parseCookies(req.headers.cookie ?? '')[SESSION_COOKIE];
    const session = token ? ctx.store.sessionByTokenHash(hashToken(token)) : undefined;
    if (token) await ctx.store.removeSession(hashToken(token));
    // Sockets opened with this session close now, not whenever they next reconnect.
    if (session) ctx.access.changed({ userId: session.userId });
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.status(204).end();
  });

  router.get('/api/auth/me', authenticated(ctx.auth), (_req, res) => {
    res.json(publicUser(userOf(res)));
  });

  return router;
}
