/**
 * Who is asking: an API token (`Authorization: Bearer`, or `?token=` on the collaboration socket)
 * or a browser session cookie. Everything downstream takes the user from here, never from the body.
 */
import type { IncomingMessage } from 'node:http';
import { parse as parseCookies } from 'cookie';
import type { Role, User } from '../../shared/api.js';
import { isMember } from '../../shared/members.js';
import type { IncidentRecord, MetadataStore, UserRecord } from '../store/metadata.js';
import { hashToken } from './secrets.js';

export const SESSION_COOKIE = 'bridgelog_session';
export const SESSION_TTL_MS = 14 * 24 * 3600 * 1000;

export const publicUser = (u: UserRecord): User => ({ id: u.id, name: u.name, role: u.role });

/**
 * What a request or socket authenticated with: a session or an API token, by hash. Open sockets keep
 * it, so that when it ends (logout, revocation, the user removed) they can be found and closed.
 */
export interface Credential {
  kind: 'session' | 'token';
  hash: string;
}

export interface Identity {
  user: UserRecord;
  credential: Credential;
}

export class Authenticator {
  constructor(private readonly store: MetadataStore) {}

  /** The active user a credential stands for now; undefined once it ended or the user was removed. */
  userOf(credential: Credential): UserRecord | undefined {
    let userId: string | undefined;
    if (credential.kind === 'session') userId = this.store.sessionByTokenHash(credential.hash)?.userId;
    else {
      const token = this.store.tokenByHash(credential.hash);
      if (token) this.store.tokenUsed(token.id);
      userId = token?.userId;
    }
    const user = userId === undefined ? undefined : this.store.userById(userId);
    return user && !user.deactivatedAt ? user : undefined;
  }

  byToken(token: string | undefined | null): UserRecord | undefined {
    return token ? this.userOf({ kind: 'token', hash: hashToken(token) }) : undefined;
  }

  /** HTTP requests and socket upgrades alike; `allowQueryToken` for sockets, whose clients cannot set headers. */
  identify(req: IncomingMessage, allowQueryToken = false): Identity | undefined {
    const header = req.headers.authorization;
    let credential: Credential | undefined;
    if (header?.startsWith('Bearer ')) credential = { kind: 'token', hash: hashToken(header.slice(7).trim()) };
    else {
      const token = allowQueryToken ? new URL(req.url ?? '/', 'http://localhost').searchParams.get('token') : null;
      const session = parseCookies(req.headers.cookie ?? '')[SESSION_COOKIE];
      if (token) credential = { kind: 'token', hash: hashToken(token) };
      else if (session) credential = { kind: 'session', hash: hashToken(session) };
    }
    const user = credential && this.userOf(credential);
    return user && credential ? { user, credential } : undefined;
  }

  fromRequest(req: IncomingMessage, allowQueryToken = false): UserRecord | undefined {
    return this.identify(req, allowQueryToken)?.user;
  }
}

const rank: Record<Role, number> = { viewer: 0, responder: 1, admin: 2 };

export const hasRole = (user: User, role: Role): boolean => rank[user.role] >= rank[role];

/**
 * A restricted incident exists only for its members, named by id or by IdP group (`group:<name>`,
 * shared/members.ts; the groups of the user's last sign-in): everyone else gets "not found".
 */
export const canSee = (user: User & { groups?: readonly string[] }, incident: IncidentRecord): boolean =>
  !incident.members || isMember(incident.members, user);

export function visibleIncident(store: MetadataStore, user: User & { groups?: readonly string[] }, id: string): IncidentRecord | undefined {
  const incident = store.incidentById(id);
  return incident && canSee(user, incident) ? incident : undefined;
}
