/**
 * Who is asking: an API token (`Authorization: Bearer`, or `?token=` on the collaboration socket)
 * or a browser session cookie. Everything downstream takes the user from here, never from the body.
 */
import type { IncomingMessage } from 'node:http';
import { parse as parseCookies } from 'cookie';
import type { Role, User } from '../../shared/api.js';
import type { IncidentRecord, MetadataStore, UserRecord } from '../store/metadata.js';
import { hashToken } from './secrets.js';

export const SESSION_COOKIE = 'bridgelog_session';
export const SESSION_TTL_MS = 14 * 24 * 3600 * 1000;

export const publicUser = (u: UserRecord): User => ({ id: u.id, name: u.name, role: u.role });

export class Authenticator {
  constructor(private readonly store: MetadataStore) {}

  byToken(token: string | undefined | null): UserRecord | undefined {
    return token ? this.store.userByTokenHash(hashToken(token)) : undefined;
  }

  bySession(sessionToken: string | undefined): UserRecord | undefined {
    if (!sessionToken) return undefined;
    const session = this.store.sessionByTokenHash(hashToken(sessionToken));
    return session ? this.store.userById(session.userId) : undefined;
  }

  /** HTTP requests and socket upgrades alike; `allowQueryToken` for sockets, whose clients cannot set headers. */
  fromRequest(req: IncomingMessage, allowQueryToken = false): UserRecord | undefined {
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer ')) return this.byToken(header.slice(7).trim());
    if (allowQueryToken) {
      const token = new URL(req.url ?? '/', 'http://localhost').searchParams.get('token');
      if (token) return this.byToken(token);
    }
    return this.bySession(parseCookies(req.headers.cookie ?? '')[SESSION_COOKIE]);
  }
}

const rank: Record<Role, number> = { viewer: 0, responder: 1, admin: 2 };

export const hasRole = (user: User, role: Role): boolean => rank[user.role] >= rank[role];

/** A restricted incident exists only for its members: everyone else gets "not found". */
export const canSee = (user: User, incident: IncidentRecord): boolean =>
  !incident.members || incident.members.includes(user.id);

export function visibleIncident(store: MetadataStore, user: User, id: string): IncidentRecord | undefined {
  const incident = store.incidentById(id);
  return incident && canSee(user, incident) ? incident : undefined;
}
