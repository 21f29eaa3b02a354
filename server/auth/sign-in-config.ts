/**
 * How people sign in (issue #17), from the environment: local accounts with passwords (the default,
 * no identity provider needed) and/or the organisation's OpenID Connect provider, whose groups give
 * roles. The names are the public contract (README "Sign in with your identity provider").
 */
import type { Role } from '../../shared/api.js';

export interface OidcConfig {
  /** The issuer URL; its discovery document (/.well-known/openid-configuration) says the rest. */
  issuer: string;
  clientId: string;
  clientSecret?: string;
  /**
   * PUBLIC_URL without a trailing slash: the redirect URI registered at the IdP is this +
   * /api/auth/oidc/callback, the post-logout redirect URI this + /login. Unset: the server's own URL.
   */
  publicUrl?: string;
  /** The ID token claim holding the groups (OIDC_GROUPS_CLAIM, default `groups`). */
  groupsClaim: string;
  adminGroups: string[];
  responderGroups: string[];
  viewerGroups: string[];
  /** The role of someone in none of those groups (OIDC_DEFAULT_ROLE), or none: refused with a page saying why. */
  defaultRole: Role | 'none';
  /** The button's label (OIDC_NAME, default "your organisation's sign-in"). */
  name: string;
  /** How long a discovery, token or JWKS request to the IdP may take (OIDC_TIMEOUT_SECONDS, default 10). */
  timeoutSeconds: number;
  /** An IdP user's session ends after this (OIDC_SESSION_HOURS, default 12); signing in again re-reads their groups. */
  sessionMaxAgeMs: number;
  /** Plain http to the IdP: only for an issuer on this machine (loopback), e.g. a test or a local Keycloak. */
  allowHttp: boolean;
}

export interface SignInConfig {
  oidc?: OidcConfig;
  /** LOCAL_LOGIN: password sign-in on (default) or off (only with an IdP; the break-glass account still may). */
  localLogin: boolean;
  /** BREAK_GLASS_ADMIN: with LOCAL_LOGIN=false, the one local admin account that may still sign in with its password. */
  breakGlassAdmin?: string;
}

const HOUR_MS = 3_600_000;

const list = (value: string | undefined) => (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);

function hours(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback * HOUR_MS;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number of hours, got "${value}"`);
  return n * HOUR_MS;
}

function httpUrl(value: string, name: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${name} is not a URL: "${value}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`${name} must be an https URL, got "${url.protocol}//…"`);
  return url;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export function signInConfigFromEnv(env: NodeJS.ProcessEnv): SignInConfig {
  const localLogin = env.LOCAL_LOGIN === undefined || env.LOCAL_LOGIN === '' ? true : env.LOCAL_LOGIN === 'true' || env.LOCAL_LOGIN === '1';
  if (env.LOCAL_LOGIN && !['true', 'false', '1', '0'].includes(env.LOCAL_LOGIN)) throw new Error(`LOCAL_LOGIN must be true or false, got "${env.LOCAL_LOGIN}"`);
  const config: SignInConfig = {
    localLogin,
    breakGlassAdmin: env.BREAK_GLASS_ADMIN?.trim() || undefined,
  };
  if (!env.OIDC_ISSUER) {
    if (!localLogin) throw new Error('LOCAL_LOGIN=false needs OIDC_ISSUER: without an identity provider nobody could sign in');
    return config;
  }
  if (!env.OIDC_CLIENT_ID) throw new Error('OIDC_ISSUER is set but OIDC_CLIENT_ID is not: register Bridgelog at the identity provider and give its client id');
  const issuer = httpUrl(env.OIDC_ISSUER, 'OIDC_ISSUER');
  const allowHttp = issuer.protocol === 'http:' && LOOPBACK.has(issuer.hostname);
  if (issuer.protocol === 'http:' && !allowHttp) throw new Error('OIDC_ISSUER must be https (plain http only for an issuer on this machine)');
  const publicUrl = env.PUBLIC_URL ? httpUrl(env.PUBLIC_URL, 'PUBLIC_URL').href.replace(/\/+$/, '') : undefined;
  const defaultRole = (env.OIDC_DEFAULT_ROLE || 'none').trim();
  if (!['admin', 'responder', 'viewer', 'none'].includes(defaultRole)) {
    throw new Error(`OIDC_DEFAULT_ROLE must be viewer, responder, admin or none, got "${defaultRole}"`);
  }
  const timeoutSeconds = Number(env.OIDC_TIMEOUT_SECONDS || 10);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new Error(`OIDC_TIMEOUT_SECONDS must be a positive number, got "${env.OIDC_TIMEOUT_SECONDS}"`);
  config.oidc = {
    issuer: env.OIDC_ISSUER,
    clientId: env.OIDC_CLIENT_ID,
    clientSecret: env.OIDC_CLIENT_SECRET || undefined,
    publicUrl,
    groupsClaim: env.OIDC_GROUPS_CLAIM?.trim() || 'groups',
    adminGroups: list(env.OIDC_ADMIN_GROUPS),
    responderGroups: list(env.OIDC_RESPONDER_GROUPS),
    viewerGroups: list(env.OIDC_VIEWER_GROUPS),
    defaultRole: defaultRole as Role | 'none',
    name: env.OIDC_NAME?.trim() || "your organisation's sign-in",
    timeoutSeconds,
    sessionMaxAgeMs: hours(env.OIDC_SESSION_HOURS, 12, 'OIDC_SESSION_HOURS'),
    allowHttp,
  };
  return config;
}
