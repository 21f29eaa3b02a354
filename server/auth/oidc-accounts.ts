/**
 * Accounts from the identity provider: created at the first sign-in (just in time) from the stable
 * (issuer, `sub`), never from a name or an email, so an IdP user is never merged with a local account
 * that happens to share a name (theirs gets a distinct one). Display name, email, groups and role are
 * read again at every sign-in; someone no longer in an allowed group (and no default role) is refused
 * and their account deactivated — sessions and tokens end, open sockets close — until a sign-in with
 * an allowed group brings it back. An account an admin removed stays removed.
 */
import type { Logger } from 'pino';
import type { Role } from '../../shared/api.js';
import { Limits } from '../../shared/protocol.js';
import { newId } from '../../shared/schema/doc.js';
import { DuplicateIdentityError, type MetadataStore, type UserChange, type UserRecord } from '../store/metadata.js';
import type { AccessChanges } from './access-changes.js';
import type { VerifiedIdentity } from './oidc-client.js';
import { SignInError } from './oidc-client.js';
import type { OidcConfig } from './sign-in-config.js';

/** The groups claim as a list (a single string is one group); undefined when the IdP sent none. */
export function groupsOf(claims: Record<string, unknown>, claim: string): string[] | undefined {
  const value = claims[claim];
  if (value === undefined || value === null) return undefined;
  const list = Array.isArray(value) ? value : [value];
  // Keycloak sends full paths ("/security-team") unless told not to: compared without the leading slash.
  return [...new Set(list.filter((g): g is string => typeof g === 'string').map((g) => g.trim().replace(/^\//, '')).filter(Boolean))];
}

/** The highest role any of the groups gives; the default role (or none) for someone in none of them. */
export function roleFromGroups(config: OidcConfig, groups: readonly string[]): Role | undefined {
  const inAny = (names: string[]) => names.some((n) => groups.includes(n.replace(/^\//, '')));
  if (inAny(config.adminGroups)) return 'admin';
  if (inAny(config.responderGroups)) return 'responder';
  if (inAny(config.viewerGroups)) return 'viewer';
  return config.defaultRole === 'none' ? undefined : config.defaultRole;
}

const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

/** A name as Bridgelog accepts them (letters, digits, . _ @ -), from the most readable claim. */
function baseName(identity: VerifiedIdentity): string {
  const { claims } = identity;
  const raw = str(claims.preferred_username) ?? str(claims.email)?.split('@')[0] ?? str(claims.name) ?? identity.subject;
  const cleaned = raw.normalize('NFC').replace(/\s+/g, '.').replace(/[^\p{L}\p{N}._@-]/gu, '').slice(0, Limits.maxNameChars - 4);
  return cleaned || 'user';
}

export interface SignInDeps {
  store: MetadataStore;
  access: AccessChanges;
  log: Logger;
}

/** The account this verified identity signs in as, created or updated; SignInError if it may not. */
export async function accountFor(deps: SignInDeps, config: OidcConfig, identity: VerifiedIdentity): Promise<UserRecord> {
  const { store, access, log } = deps;
  const groups = groupsOf(identity.claims, config.groupsClaim);
  const role = roleFromGroups(config, groups ?? []);
  const key = { issuer: identity.issuer, subject: identity.subject };
  const existing = store.userByIdentity(key);
  const shown = str(identity.claims.email) ?? str(identity.claims.preferred_username) ?? identity.subject;

  if (existing?.deactivatedAt && existing.deactivatedBy !== 'groups') {
    throw new SignInError(403, `Your Bridgelog account (${existing.name}) was removed by an admin. Ask them to bring it back.`);
  }
  if (!role) {
    if (existing && !existing.deactivatedAt) {
      // Removed from every allowed group: access ends now, not when their sessions would have expired.
      await store.updateUser(existing.id, { deactivatedAt: new Date().toISOString(), deactivatedBy: 'groups', groups: groups ?? [] });
      await store.removeSessionsOf(existing.id);
      await store.removeTokens({ userId: existing.id });
      access.changed({ userId: existing.id });
      log.info({ user: existing.name }, 'IdP sign-in refused: in no allowed group any more; account deactivated');
    }
    const why = groups === undefined
      ? `The identity provider sent no "${config.groupsClaim}" claim for ${shown}, so Bridgelog cannot tell which role you have. Your admin should add the groups claim to the ID token (see the README's recipe for your identity provider).`
      : `${shown} is not in any group allowed to use Bridgelog. Ask your admin to add you to one of: ${[...config.adminGroups, ...config.responderGroups, ...config.viewerGroups].join(', ') || '(none configured)'}.`;
    throw new SignInError(403, why);
  }

  const change: UserChange = {
    role,
    groups: groups ?? [],
    displayName: str(identity.claims.name),
    email: str(identity.claims.email),
  };
  if (existing) {
    if (existing.deactivatedAt) Object.assign(change, { deactivatedAt: undefined, deactivatedBy: undefined });
    // Read before the update: the embedded store changes the record it handed out in place.
    const lostSomething = existing.role !== role || JSON.stringify(existing.groups ?? []) !== JSON.stringify(change.groups);
    const updated = (await store.updateUser(existing.id, change))!;
    // Sockets check again what this user may see: those on incidents their old groups opened close.
    if (lostSomething) access.changed({ userId: existing.id });
    return updated;
  }
  return createAccount(deps, key, baseName(identity), change);
}

async function createAccount(deps: SignInDeps, identity: UserRecord['identity'] & object, base: string, change: UserChange): Promise<UserRecord> {
  const { store, log } = deps;
  for (let n = 1; n <= 50; n++) {
    // Never someone else's name, local or not: the first free of base, base-2, base-3, …
    const name = n === 1 ? base : `${base}-${n}`;
    if (store.userByName(name)) continue;
    const user: UserRecord = {
      id: newId(),
      name,
      role: change.role!,
      createdAt: new Date().toISOString(),
      identity,
      groups: change.groups ?? [],
      ...(change.displayName ? { displayName: change.displayName } : {}),
      ...(change.email ? { email: change.email } : {}),
    };
    try {
      await store.addUser(user);
    } catch (err) {
      // Another sign-in of the same person (another tab, another node) created it a moment ago.
      if (err instanceof DuplicateIdentityError) {
        // Another node's row may not have reached this node's copy yet: then the person tries again.
        const theirs = store.userByIdentity(identity);
        if (theirs) return theirs;
        throw new SignInError(503, 'Your account was being created by another sign-in at the same moment. Sign in again.');
      }
      if ((err as { code?: string }).code === '23505') continue; // the name was taken on another node meanwhile
      throw err;
    }
    log.info({ user: name, issuer: identity.issuer }, 'account created at its first sign-in through the identity provider');
    return user;
  }
  throw new SignInError(409, `Could not find a free name for ${base}; ask an admin.`);
}
