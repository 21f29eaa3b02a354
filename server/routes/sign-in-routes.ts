/**
 * Signing in through the organisation's identity provider (issue #17), and what the login page needs
 * to know: which ways in there are. `GET /api/auth/oidc/login[?returnTo=/path]` starts a sign-in (302
 * to the IdP); the IdP sends the browser back to `/api/auth/oidc/callback`, which verifies everything
 * (auth/oidc-client.ts), creates or updates the account (auth/oidc-accounts.ts) and starts a fresh
 * session — a new token, whatever cookie came in (no fixation) — then goes to `returnTo`, a path on
 * this server only. Failures land on a page that says what was wrong (auth/sign-in-page.ts).
 *
 * Mounted before authRoutes: with LOCAL_LOGIN=false a password login (and joining through an invite,
 * which makes a password account) is refused here (the BREAK_GLASS_ADMIN account excepted), and the logout of an IdP session also answers with the IdP's
 * logout URL (RP-initiated logout); every other request goes on to authRoutes.
 */
import { Router, type Request, type Response } from 'express';
import { parse as parseCookies } from 'cookie';
import { SESSION_COOKIE } from '../auth/authenticate.js';
import { OidcRelyingParty, SignInError, type PendingSignIn } from '../auth/oidc-client.js';
import { accountFor } from '../auth/oidc-accounts.js';
import { safeReturnTo } from '../../shared/return-to.js';
import { hashToken } from '../auth/secrets.js';
import { startSession } from '../auth/start-session.js';
import { signInFailedPage } from '../auth/sign-in-page.js';
import type { UserRecord } from '../store/metadata.js';
import type { RouteContext } from './context.js';
import { HttpError } from './http-error.js';

const PENDING_COOKIE = 'bridgelog_oidc';
/** A sign-in at the IdP must come back within this. */
const PENDING_MS = 10 * 60_000;

export function signInRoutes(ctx: RouteContext, serverUrl: () => string): Router {
  const router = Router();
  const { signIn } = ctx.config;
  const oidc = signIn.oidc;
  const rp = oidc && new OidcRelyingParty(oidc);
  const base = () => oidc?.publicUrl ?? serverUrl();
  const redirectUri = () => `${base()}/api/auth/oidc/callback`;

  /** What the login page offers. */
  router.get('/api/auth/methods', (_req, res) => {
    res.json({ local: signIn.localLogin, ...(oidc ? { oidc: { name: oidc.name, loginUrl: '/api/auth/oidc/login' } } : {}), breakGlass: !signIn.localLogin });
  });

  router.post('/api/auth/login', (req, res, next) => {
    if (signIn.localLogin) return next();
    const name: unknown = req.body?.name;
    if (signIn.breakGlassAdmin && typeof name === 'string' && name.trim() === signIn.breakGlassAdmin) return next();
    throw new HttpError(403, `password sign-in is turned off here: sign in with ${oidc?.name ?? 'the identity provider'}`);
  });

  // Joining through an invite makes a password account and signs it in: with passwords off, people
  // come in through the IdP instead (their account is made at their first sign-in).
  router.post('/api/invites/accept', (_req, _res, next) => {
    if (signIn.localLogin) return next();
    throw new HttpError(403, `password accounts are turned off here: sign in with ${oidc?.name ?? 'the identity provider'}; your account is created then`);
  });

  router.post('/api/auth/logout', async (req, res, next) => {
    const token = parseCookies(req.headers.cookie ?? '')[SESSION_COOKIE];
    const session = token ? ctx.store.sessionByTokenHash(hashToken(token)) : undefined;
    if (!rp || session?.via !== 'oidc') return next();
    await ctx.store.removeSession(session.tokenHash);
    ctx.access.changed({ userId: session.userId });
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    // The IdP's own session ends too when it offers RP-initiated logout; the web app goes there.
    const endSessionUrl = await rp.endSessionUrl(`${base()}/login`);
    res.status(200).json(endSessionUrl ? { endSessionUrl } : {});
  });

  if (!rp || !oidc) return router;

  const failed = (res: Response, err: unknown) => {
    const e = err instanceof SignInError ? err : new SignInError(500, 'Something went wrong while signing you in. Try again.', (err as Error).message);
    ctx.log.warn({ status: e.status, reason: e.message, detail: e.detail }, 'IdP sign-in failed');
    res.status(e.status).type('html').send(signInFailedPage(e.message, e.detail));
  };

  router.get('/api/auth/oidc/login', async (req, res) => {
    const asked = typeof req.query.returnTo === 'string' ? req.query.returnTo : '/';
    const returnTo = safeReturnTo(asked);
    if (returnTo === undefined) {
      return failed(res, new SignInError(400, 'returnTo must be a path on this Bridgelog (like /incidents/abc), not another site.', asked.slice(0, 200)));
    }
    try {
      const { url, pending } = await rp.start(redirectUri(), returnTo);
      res.cookie(PENDING_COOKIE, Buffer.from(JSON.stringify(pending)).toString('base64url'), {
        httpOnly: true, sameSite: 'lax', secure: ctx.config.cookieSecure, maxAge: PENDING_MS, path: '/api/auth/oidc',
      });
      res.redirect(302, url);
    } catch (err) {
      failed(res, err);
    }
  });

  router.get('/api/auth/oidc/callback', async (req, res) => {
    const pending = readPending(req);
    // Used once, whatever happens: a second visit of this URL finds nothing to finish.
    res.clearCookie(PENDING_COOKIE, { path: '/api/auth/oidc' });
    try {
      if (typeof req.query.error === 'string') {
        const described = typeof req.query.error_description === 'string' ? req.query.error_description : req.query.error;
        throw new SignInError(400, `The identity provider did not sign you in: ${described}.`, req.query.error);
      }
      if (!pending) throw new SignInError(400, 'This sign-in was not started in this browser, or it took longer than 10 minutes. Start the sign-in again.');
      // The registered redirect URI with this request's query: the token request must name it exactly
      // (also behind a proxy that serves Bridgelog under a path of PUBLIC_URL).
      const callbackUrl = new URL(redirectUri());
      callbackUrl.search = new URL(req.originalUrl, 'http://callback.invalid').search;
      const identity = await rp.finish(callbackUrl, pending);
      const user = await accountFor(ctx, oidc, identity);
      await startIdpSession(req, res, user);
      res.redirect(302, safeReturnTo(pending.returnTo) ?? '/');
    } catch (err) {
      failed(res, err);
    }
  });

  /** A new session for `user`; the session the request came with (if any) ends: no fixation. */
  async function startIdpSession(req: Request, res: Response, user: UserRecord): Promise<void> {
    const old = parseCookies(req.headers.cookie ?? '')[SESSION_COOKIE];
    if (old) await ctx.store.removeSession(hashToken(old));
    await startSession(ctx, res, user, { maxAgeMs: oidc!.sessionMaxAgeMs, via: 'oidc' });
  }

  return router;
}

function readPending(req: Request): PendingSignIn | undefined {
  const raw = parseCookies(req.headers.cookie ?? '')[PENDING_COOKIE];
  if (!raw) return undefined;
  try {
    const p = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as PendingSignIn;
    return typeof p.state === 'string' && typeof p.nonce === 'string' && typeof p.verifier === 'string' && typeof p.returnTo === 'string' ? p : undefined;
  } catch {
    return undefined;
  }
}
