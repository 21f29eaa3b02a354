import type { IncomingMessage } from 'node:http';

/**
 * Browsers send Origin on socket upgrades and cross-site requests; it must be this server's own (as
 * the Host header names it) or one configured in ALLOWED_ORIGINS. Non-browser clients send none.
 */
export function originAllowed(req: IncomingMessage, allowed: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  if (allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
