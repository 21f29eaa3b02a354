/**
 * The HTTP API's request bodies and response shapes (api.md), shared by server, client and tests.
 * Request schemas are strict about types and lengths; the server names the offending field on 400.
 */
import { z } from 'zod';
import { Limits } from './protocol.js';
import { IncidentStatuses, Roles, Severities } from './model.js';

export * from './model.js';

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
