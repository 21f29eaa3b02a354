/**
 * Invite links (docs/api.md "Invites"): an admin creates one with a role; whoever opens it chooses a
 * name and password and is signed in as a new user with that role. A link works once and expires.
 */
import { z } from 'zod';
import { Roles, type Role } from './model.js';
import { SetupRequest } from './api.js';

export const InviteLimits = {
  defaultHours: 72,
  /** A link that lives longer than a month is a standing door, not an invitation. */
  maxHours: 24 * 30,
} as const;

export const CreateInviteRequest = z.object({
  role: z.enum(Roles),
  expiresInHours: z.number().int().min(1).max(InviteLimits.maxHours).optional(),
});

/** The same rules for name and password as the first-run setup (and every other account). */
export const AcceptInviteRequest = z.object({
  token: z.string().min(1).max(200),
  name: SetupRequest.shape.name,
  password: SetupRequest.shape.password,
});

/** An invite as admins see it (never its secret, except once in CreatedInvite). */
export interface Invite {
  id: string;
  role: Role;
  createdAt: string;
  createdBy: string;
  expiresAt: string;
  /** Set once someone signed up with it. */
  usedAt?: string;
  usedBy?: string;
}

export interface CreatedInvite extends Invite {
  /** The secret, shown this once: the link is `/invite/<token>`. */
  token: string;
  /** The path of the link to hand to the invitee (prefix it with the server's address). */
  path: string;
}

/** What the invitee's page learns before signing up. */
export interface InvitePreview {
  role: Role;
  expiresAt: string;
}
