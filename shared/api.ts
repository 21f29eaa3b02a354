/**
 * The HTTP API's request bodies and response shapes (docs/api.md), shared by server, client and
 * tests. Request schemas are strict about types and lengths; the server names the offending field
 * on 400.
 */
import { z } from 'zod';
import { Limits } from './protocol.js';
import { IncidentStatuses, Roles, Severities } from './model.js';
import { AlertSources, MatcherLimits, parseMatcher } from './alerts.js';

export * from './model.js';

const name = z
  .string()
  .trim()
  .min(1)
  .max(Limits.maxNameChars)
  .regex(/^[\p{L}\p{N}._@-]+$/u, 'letters, digits and . _ @ - only');
const password = z.string().min(Limits.minPasswordChars).max(1024);
const title = z.string().trim().min(1).max(Limits.maxTitleChars);
/** Each a label matcher RE2 compiles, within MatcherLimits; a 400 names the matcher at fault. */
const alertMatchers = z
  .array(z.string())
  .max(MatcherLimits.perIncident, `at most ${MatcherLimits.perIncident} label matchers per incident`)
  .superRefine((texts, ctx) => {
    // Compiling costs time: not for a list already refused as too long.
    if (texts.length > MatcherLimits.perIncident) return;
    for (const [i, text] of texts.entries()) {
      try {
        parseMatcher(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message, path: [i] });
        return;
      }
    }
  });

export const LoginRequest = z.object({ name, password: z.string().min(1).max(1024) });
export const SetupRequest = z.object({ token: z.string().min(1), name, password });
export const CreateUserRequest = z.object({ name, role: z.enum(Roles), password: password.optional() });

export const CreateIncidentRequest = z.object({
  title,
  severity: z.enum(Severities).optional(),
  /** Restrict the incident to these user ids (the creator is always a member). */
  members: z.array(z.string().min(1)).max(500).optional(),
  alertMatchers: alertMatchers.optional(),
});
export const UpdateIncidentRequest = z
  .object({
    title: title.optional(),
    severity: z.enum(Severities).optional(),
    status: z.enum(IncidentStatuses).optional(),
    members: z.array(z.string().min(1)).max(500).nullable().optional(),
    alertMatchers: alertMatchers.nullable().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: 'nothing to change' });

export const CreateIntegrationRequest = z.object({ name: z.string().trim().min(1).max(100), kind: z.enum(AlertSources) });
export const AttachAlertRequest = z.object({ alertId: z.string().min(1).max(100) });
export const DeclareFromAlertRequest = z.object({
  title: title.optional(),
  severity: z.enum(Severities).optional(),
  alertMatchers: alertMatchers.optional(),
});

/** An admin changes a user's role, or removes them (`active: false`) or brings them back. */
export const UpdateUserRequest = z
  .object({ role: z.enum(Roles).optional(), active: z.boolean().optional() })
  .refine((v) => Object.keys(v).length > 0, { message: 'nothing to change: give role or active' });
export const CreateTokenRequest = z.object({ name: z.string().trim().min(1).max(100) });

/**
 * `PUT /api/incidents/:id/milestones/:name`: `at` is ISO-8601 with a zone, relative to the server's
 * now (`-5m`, `-2h`, `-1h30m`), or `now`; absent means now.
 */
export const SetMilestoneRequest = z.object({ at: z.string().max(100).optional() });
