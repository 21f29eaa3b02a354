/**
 * Invite links: an admin makes one with a role (`POST /api/invites`, the secret shown once), the
 * invitee opens `/invite/<token>` (`GET /api/invites/preview` tells the page which role waits), chooses
 * a name and password and is signed in (`POST /api/invites/accept`). A link works once and expires.
 */
import { Router } from 'express';
import { AcceptInviteRequest, CreateInviteRequest, InviteLimits, type CreatedInvite, type Invite, type InvitePreview } from '../../shared/invites.js';
import { newId } from '../../shared/schema/doc.js';
import { publicUser } from '../auth/authenticate.js';
import { whyNot, type InviteRecord, type Redeemed } from '../auth/invite-store.js';
import { loginLimiters } from '../auth/login-limits.js';
import { hashPassword, hashToken, newToken } from '../auth/secrets.js';
import { startSession } from '../auth/start-session.js';
import type { UserRecord } from '../store/metadata.js';
import { authenticated, type RouteContext, sharedRedis, userOf } from './context.js';
import { HttpError, notFound, parseBody } from './http-error.js';

const HOUR_MS = 3_600_000;

const present = (i: InviteRecord): Invite => ({
  id: i.id,
  role: i.role,
  createdAt: i.createdAt,
  createdBy: i.createdBy,
  expiresAt: i.expiresAt,
  ...(i.usedAt ? { usedAt: i.usedAt } : {}),
  ...(i.usedBy ? { usedBy: i.usedBy } : {}),
});

/** What the invitee is told about a link that does not work, in words they can act on. */
function refusal(reason: Exclude<Redeemed, { ok: true }>['reason']): HttpError {
  if (reason === 'used') return new HttpError(410, 'this invite link has been used already; ask an admin for a new one');
  if (reason === 'expired') return new HttpError(410, 'this invite link has expired; ask an admin for a new one');
  return new HttpError(404, 'this invite link is not valid (it may have been revoked); ask an admin for a new one');
}

export function inviteRoutes(ctx: RouteContext): Router {
  const router = Router();
  const invites = ctx.storage.invites;
  // Guessing links is guessing passwords: the same limits as logins.
  const limit = loginLimiters(sharedRedis(ctx));

  router.post('/api/invites', authenticated(ctx.auth, 'admin'), async (req, res) => {
    const body = parseBody(CreateInviteRequest, req.body);
    const token = newToken('blinv_');
    const now = Date.now();
    const record: InviteRecord = {
      id: newId(),
      tokenHash: hashToken(token),
      role: body.role,
      createdBy: userOf(res).id,
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + (body.expiresInHours ?? InviteLimits.defaultHours) * HOUR_MS).toISOString(),
    };
    await invites.add(record);
    ctx.log.info({ by: userOf(res).name, role: record.role, expiresAt: record.expiresAt }, 'invite created');
    const created: CreatedInvite = { ...present(record), token, path: `/invite/${token}` };
    res.status(201).json(created);
  });

  router.get('/api/invites', authenticated(ctx.auth, 'admin'), async (_req, res) => {
    res.json((await invites.list()).map(present));
  });

  router.delete('/api/invites/:id', authenticated(ctx.auth, 'admin'), async (req, res) => {
    if (!(await invites.remove(String(req.params.id)))) throw notFound('invite');
    res.status(204).end();
  });

  /** For the invitee's page, before they sign up: which role waits, until when. */
  router.post('/api/invites/preview', ...limit, async (req, res) => {
    const token = typeof req.body?.token === 'string' ? req.body.token : '';
    if (!token) throw new HttpError(400, 'token: the invite link’s token is required', 'token');
    const invite = await invites.byTokenHash(hashToken(token));
    const refused = whyNot(invite, new Date().toISOString());
    if (refused && !refused.ok) throw refusal(refused.reason);
    const preview: InvitePreview = { role: invite!.role, expiresAt: invite!.expiresAt };
    res.json(preview);
  });

  router.post('/api/invites/accept', ...limit, async (req, res) => {
    const body = parseBody(AcceptInviteRequest, req.body);
    if (ctx.store.userByName(body.name)) throw new HttpError(409, `a user named ${body.name} already exists; choose another name`, 'name');
    const userId = newId();
    const now = new Date().toISOString();
    const redeemed = await invites.redeem(hashToken(body.token), userId, now);
    if (!redeemed.ok) throw refusal(redeemed.reason);
    const user: UserRecord = { id: userId, name: body.name, role: redeemed.invite.role, createdAt: now, passwordHash: await hashPassword(body.password) };
    try {
      await ctx.store.addUser(user);
    } catch (err) {
      // The name was taken in between (another node): the link is not spent on an account that does not exist.
      await invites.release(redeemed.invite.id, userId);
      if (ctx.store.userByName(body.name)) throw new HttpError(409, `a user named ${body.name} already exists; choose another name`, 'name');
      throw err;
    }
    ctx.log.info({ user: user.name, role: user.role }, 'user joined through an invite');
    await startSession(ctx, res, user);
    res.status(201).json(publicUser(user));
  });

  return router;
}
