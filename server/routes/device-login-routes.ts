/**
 * `bridgelog login` in a browser, the way `gh auth login` works (OAuth's device flow, RFC 8628, in
 * Bridgelog's own words): the CLI asks for a login (`POST /api/auth/device`) and gets a secret device
 * code and a short user code; it opens (or prints) `/device?code=<user code>`, where the person signs
 * in as usual (password or identity provider) and approves; the CLI, asking every few seconds with its
 * device code (`POST /api/auth/device/token`), then receives a new personal API token — made at that
 * moment, handed out once, never stored in the clear. Only the device code's hash is kept, for 10 minutes.
 */
import { randomInt } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { newId } from '../../shared/schema/doc.js';
import { publicUser } from '../auth/authenticate.js';
import { hashToken, newToken } from '../auth/secrets.js';
import type { ApiTokenRecord } from '../store/metadata.js';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { limitStore } from '../auth/shared-limits.js';
import { authenticated, type RouteContext, sharedRedis, userOf } from './context.js';
import { HttpError, parseBody } from './http-error.js';

const LIFETIME_MS = 10 * 60_000;
const POLL_SECONDS = 2;
/** No vowels nor look-alikes (0/O, 1/I): nothing rude, nothing misread. */
const ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';

const userCode = () => Array.from({ length: 8 }, (_, i) => (i === 4 ? '-' : '') + ALPHABET[randomInt(ALPHABET.length)]).join('');
const TokenRequest = z.object({ deviceCode: z.string().min(1).max(200) });
const normalizeCode = (code: string) => code.trim().toUpperCase().replace(/[^A-Z]/g, '').replace(/^(.{4})(.{4})$/, '$1-$2');

export function deviceLoginRoutes(ctx: RouteContext, serverUrl: () => string): Router {
  const router = Router();
  const base = () => ctx.config.signIn.oidc?.publicUrl ?? ctx.config.notify.publicUrl ?? serverUrl();

  // Anyone may start one (the CLI is not signed in yet): bounded per address, like failed logins.
  const limitStarts = rateLimit({
    store: limitStore(sharedRedis(ctx), 'device-login'),
    windowMs: 60_000,
    limit: 20,
    identifier: 'device-login',
    keyGenerator: (req) => ipKeyGenerator(req.ip ?? ''),
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    validate: { xForwardedForHeader: false },
    message: { error: 'too many logins started from your address; wait a minute and try again' },
  });

  router.post('/api/auth/device', limitStarts, async (_req, res) => {
    const deviceCode = newToken('bld_');
    const now = Date.now();
    const code = userCode();
    await ctx.store.addDeviceLogin({ deviceHash: hashToken(deviceCode), userCode: code, createdAt: new Date(now).toISOString(), expiresAt: new Date(now + LIFETIME_MS).toISOString() });
    res.status(201).json({
      deviceCode,
      userCode: code,
      verificationUri: `${base()}/device`,
      verificationUriComplete: `${base()}/device?code=${code}`,
      expiresIn: LIFETIME_MS / 1000,
      interval: POLL_SECONDS,
    });
  });

  /** The CLI asks: 202 while waiting, 200 with the token once approved (only once), 410 when it is over. */
  router.post('/api/auth/device/token', async (req, res) => {
    const body = parseBody(TokenRequest, req.body);
    const login = await ctx.store.takeDeviceLogin(hashToken(body.deviceCode));
    if (!login) throw new HttpError(410, 'this login expired or was already used: run bridgelog login again');
    if (!login.approvedBy) return void res.status(202).json({ status: 'pending', interval: POLL_SECONDS });
    const user = ctx.store.userById(login.approvedBy);
    if (!user || user.deactivatedAt) throw new HttpError(410, 'the account that approved this login can no longer sign in');
    const token = newToken('bl_');
    const record: ApiTokenRecord = { id: newId(), userId: user.id, name: `bridgelog login ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`, tokenHash: hashToken(token), createdAt: new Date().toISOString() };
    await ctx.store.addToken(record);
    ctx.log.info({ user: user.name }, 'bridgelog login approved in the browser: token issued');
    res.json({ token, tokenId: record.id, user: publicUser(user) });
  });

  /** The approval page asks what it is approving. */
  router.get('/api/auth/device/:code', authenticated(ctx.auth), async (req, res) => {
    const login = await ctx.store.deviceLoginByUserCode(normalizeCode(String(req.params.code)));
    if (!login || login.approvedBy) throw new HttpError(404, 'no login waits for this code: it expired, was approved already, or was mistyped');
    res.json({ userCode: login.userCode, createdAt: login.createdAt, expiresAt: login.expiresAt });
  });

  router.post('/api/auth/device/:code/approve', authenticated(ctx.auth), async (req, res) => {
    const approved = await ctx.store.approveDeviceLogin(normalizeCode(String(req.params.code)), userOf(res).id);
    if (!approved) throw new HttpError(404, 'no login waits for this code: it expired, was approved already, or was mistyped');
    res.status(204).end();
  });

  return router;
}
