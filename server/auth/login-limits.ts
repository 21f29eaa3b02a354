/**
 * Password guessing is limited twice: per account, from any address (one name attacked from many
 * machines), and per peer address, whatever the names (one client trying many). Only failures count,
 * so a team logging in from behind one NAT address is not held back. The peer address is the socket's
 * unless TRUST_PROXY names a proxy whose X-Forwarded-For to believe. Several nodes count together in
 * Redis (shared-limits.ts).
 */
import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import { LoginRequest } from '../../shared/api.js';
import { limitStore } from './shared-limits.js';

export const LOGIN_LIMITS = { windowMs: 60_000, perName: 10, perAddress: 30 };

/** The name as the login looks it up (the schema trims it): " alice" and "alice\t" are one account. */
function accountKey(req: Request): string {
  const raw: unknown = req.body?.name;
  const parsed = LoginRequest.shape.name.safeParse(raw);
  return parsed.success ? parsed.data : typeof raw === 'string' ? raw : '';
}

function limiter(identifier: string, limit: number, key: (req: Request) => string, why: string, redis: Redis | undefined): RequestHandler {
  return rateLimit({
    store: limitStore(redis, identifier),
    windowMs: LOGIN_LIMITS.windowMs,
    limit,
    identifier,
    keyGenerator: key,
    skipSuccessfulRequests: true,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // Without TRUST_PROXY, X-Forwarded-For is ignored on purpose: not a misconfiguration to warn about.
    validate: { xForwardedForHeader: false },
    message: { error: `too many failed logins ${why}; wait a minute and try again` },
  });
}

/**
 * Both limiters, for a fresh router (each has its own counts). Address first: a refused sprayer counts
 * against no account. With `redis` (several nodes) the counts are shared by every node.
 */
export function loginLimiters(redis?: Redis): RequestHandler[] {
  return [
    limiter('login-address', LOGIN_LIMITS.perAddress, (req) => ipKeyGenerator(req.ip ?? ''), 'from your address', redis),
    limiter('login-name', LOGIN_LIMITS.perName, accountKey, 'for this name', redis),
  ];
}
