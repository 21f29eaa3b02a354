/**
 * Signs a user in on this response: a new session (only its hash stored) in an HttpOnly cookie.
 * A password or invite sign-in lasts SESSION_TTL_MS; an IdP sign-in says its own lifetime and `via`.
 */
import type { Response } from 'express';
import type { Config } from '../config.js';
import type { MetadataStore, SessionRecord, UserRecord } from '../store/metadata.js';
import { SESSION_COOKIE, SESSION_TTL_MS } from './authenticate.js';
import { hashToken, newToken } from './secrets.js';

export async function startSession(
  ctx: { store: MetadataStore; config: Pick<Config, 'cookieSecure'> },
  res: Response,
  user: UserRecord,
  { maxAgeMs = SESSION_TTL_MS, via }: { maxAgeMs?: number; via?: SessionRecord['via'] } = {},
): Promise<void> {
  const token = newToken('bls_');
  const now = Date.now();
  await ctx.store.addSession({
    tokenHash: hashToken(token),
    userId: user.id,
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + maxAgeMs).toISOString(),
    ...(via ? { via } : {}),
  });
  res.cookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.config.cookieSecure,
    maxAge: maxAgeMs,
    path: '/',
  });
}
