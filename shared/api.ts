/**
 * The HTTP API's request bodies and response shapes (api.md), shared by server, client and tests.
 * Request schemas are strict about types and lengths; the server names the offending field on 400.
 */
import { z } from 'zod';
import { Limits } from './protocol.js';

export const Roles = ['admin', 'responder', 'viewer'] as const;
export type Role = (typeof Roles)[number];

export const Severities = ['sev1', 'sev2', 'sev3', 'sev4'] as const;
export type Severity = (typeof Severities)[number];

export const IncidentStatuses = ['investigating', 'identified', 'monitoring', 'resolved'] as const;
export type IncidentStatus = (typeof IncidentStatuses)[number];

const name = z
  .string()
  .trim()
  .min(1)
  .max(Limits.maxNameChars)
  .regex(/^[\p{L}\p{N}._@-]+$/u, 'letters, digits and . _ @ - only');
const password = z.string().min(Limits.minPasswordChars).max(1024);
const title = z.string().trim().min(1).max(Limits.maxTitleChars);

export const LoginRequest = z.object({ name, password: z.string().min(1).max(1024) });
export const SetupRequest = z.object({ token: z.string().min(1), name, password });
export const CreateUserRequest = z.object({ name, role: z.enum(Roles), password: password.optional() });

export const CreateIncidentRequest = z.object({
  title,
  severity: z.enum(Severities).optional(),
  /** Restrict the incident to these user ids (the creator is always a member). */
  members: z.array(z.string().min(1)).max(500).optional(),
});
export const UpdateIncidentRequest = z
  .object({
    title: title.optional(),
    severity: z.enum(Severities).optional(),
    status: z.enum(IncidentStatuses).optional(),
    members: z.array(z.string().min(1)).max(500).nullable().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: 'nothing to change' });

export interface User {
  id: string;
  name: string;
  role: Role;
}

export interface CreatedUser extends User {
  /** API token, shown once. */
  token: string;
}

export interface Incident {
  id: string;
  title: string;
  severity: Severity;
  status: IncidentStatus;
  createdAt: string;
  createdBy: string;
  resolvedAt: string | null;
  /** Present on restricted incidents: the only users for whom it exists. */
  members?: string[];
}

export interface HistoryRecord {
  seq: number;
  /** Server receive time, ISO-8601 UTC with milliseconds. */
  at: string;
  userId: string;
  userName: string;
  bytes: number;
}

export interface ApiError {
  error: string;
  /** The request field at fault, e.g. `title`, when there is one. */
  field?: string;
}
