/**
 * Notifications (issue #20): the moments of an incident sent to where people already are — Slack,
 * Microsoft Teams, Matrix, email and signed webhooks. The names other tools rely on (event names,
 * destination kinds, the API's shapes) live here, for the server, the web app and the tests.
 */
import { z } from 'zod';

export const NotificationEvents = [
  'incident.declared',
  'incident.updated',
  'milestone.set',
  'conclusion.written',
  'hypothesis.verdict',
  'alert.linked',
  'alert.resolved',
  'tests.digest',
] as const;
export type NotificationEventName = (typeof NotificationEvents)[number];

export const NotificationEventLabels: Record<NotificationEventName, string> = {
  'incident.declared': 'Incident declared',
  'incident.updated': 'Title, severity, status or members changed',
  'milestone.set': 'Milestone set',
  'conclusion.written': 'Conclusion written',
  'hypothesis.verdict': 'Hypothesis confirmed or ruled out',
  'alert.linked': 'Alert linked',
  'alert.resolved': 'Linked alert resolved',
  'tests.digest': 'Digest of new tests',
};

export const DestinationKinds = ['webhook', 'slack', 'teams', 'matrix', 'email'] as const;
export type DestinationKind = (typeof DestinationKinds)[number];

export const NotificationLimits = {
  maxDestinations: 100,
  maxNameChars: 100,
  maxUrlChars: 2048,
  maxRecipients: 20,
  /** Digest interval bounds, minutes. */
  minDigestMinutes: 1,
  maxDigestMinutes: 24 * 60,
  defaultDigestMinutes: 15,
  maxRestrictedIncidents: 500,
  /** What of a receiver's answer is kept in the delivery log. */
  excerptChars: 200,
} as const;

const url = z.string().trim().min(1).max(NotificationLimits.maxUrlChars);
const email = z.string().trim().min(3).max(254).regex(/^[^\s@<>]+@[^\s@<>]+$/, 'an email address, e.g. oncall@example.com');

const destinationFields = {
  name: z.string().trim().min(1).max(NotificationLimits.maxNameChars),
  events: z.array(z.enum(NotificationEvents)).min(1, 'choose at least one event').max(NotificationEvents.length),
  /** How often `tests.digest` sends the tests logged since the last one, minutes. */
  digestMinutes: z.number().int().min(NotificationLimits.minDigestMinutes).max(NotificationLimits.maxDigestMinutes).optional(),
  /** Restricted incidents this destination may be told about (none otherwise, ever). */
  restrictedIncidents: z.array(z.string().min(1).max(64)).max(NotificationLimits.maxRestrictedIncidents).optional(),
};

/**
 * `url`: the webhook URL (webhook, slack, teams); the homeserver's base URL (matrix); or
 * `smtp://user:password@host:port` / `smtps://…` (email; the password is kept as the destination's
 * secret and never shown again). Matrix needs `roomId` and `accessToken`; email needs `from` and `to`.
 */
export const CreateDestinationRequest = z
  .object({
    ...destinationFields,
    kind: z.enum(DestinationKinds),
    url: url.optional(),
    roomId: z.string().trim().regex(/^![^:\s]+:\S+$/, 'a Matrix room id, e.g. !abc123:example.org').max(255).optional(),
    accessToken: z.string().trim().min(1).max(2048).optional(),
    from: email.optional(),
    to: z.array(email).min(1).max(NotificationLimits.maxRecipients).optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    const need = (field: keyof typeof d, why: string) => {
      if (d[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: `required for ${why}` });
    };
    need('url', `a ${d.kind} destination`);
    if (d.kind === 'matrix') {
      need('roomId', 'Matrix');
      need('accessToken', 'Matrix');
    }
    if (d.kind === 'email') {
      need('from', 'email');
      need('to', 'email');
    }
  });
export type CreateDestinationInput = z.infer<typeof CreateDestinationRequest>;

export const UpdateDestinationRequest = z
  .object({ ...destinationFields, enabled: z.boolean() })
  .partial()
  .strict();
export type UpdateDestinationInput = z.infer<typeof UpdateDestinationRequest>;

/** A destination as the API presents it: never its secret. */
export interface Destination {
  id: string;
  name: string;
  kind: DestinationKind;
  /** Without credentials (an SMTP URL's password is the secret). */
  url?: string;
  roomId?: string;
  from?: string;
  to?: string[];
  events: NotificationEventName[];
  digestMinutes: number;
  restrictedIncidents: string[];
  enabled: boolean;
  createdAt: string;
  createdBy: string;
  /** Whether a secret (signing secret, access token, SMTP password) is kept for it. */
  hasSecret: boolean;
  /** Messages waiting, failed, delivered. */
  counts: { pending: number; failed: number; delivered: number };
}

/** The answer to creating a destination: its secret, shown this once (a webhook's `whsec_…`). */
export interface CreatedDestination extends Destination {
  secret?: string;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'withheld';

export interface DeliveryAttempt {
  at: string;
  durationMs: number;
  ok: boolean;
  /** The receiver's HTTP status (absent when no answer came, or for email). */
  statusCode?: number;
  error?: string;
  /** The start of the receiver's answer, at most `excerptChars`. */
  excerpt?: string;
}

/** One message to one destination and what became of it (`GET /api/notifications/deliveries`). */
export interface Delivery {
  id: string;
  destinationId: string;
  event: NotificationEventName;
  incidentId: string;
  /** What it says, one line; withheld from a caller who may not see the incident. */
  summary: string;
  status: DeliveryStatus;
  createdAt: string;
  /** When it is (or was) next tried. */
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  attempts: number;
  lastError: string | null;
  /** The latest attempts, newest first. */
  log: DeliveryAttempt[];
}

/** Who did it, from authentication and the attributed history (never a client's claim). */
export interface NotificationActor {
  id: string;
  name: string;
}

/** What a message says: the `data` of a webhook's body, and what every other kind is rendered from. */
export interface NotificationEvent {
  type: NotificationEventName;
  incident: { id: string; title: string; severity: string; status: string; restricted: boolean; url: string };
  /** Null when nobody did it by hand (an alert's sender, an incident's label matchers). */
  actor: NotificationActor | null;
  /** When it happened, by the server's clock, ISO-8601 UTC. */
  at: string;
  /** One line saying what happened. */
  summary: string;
  /** Where to look: the incident, or the entry (`/incidents/<id>#entry-<entryId>`). */
  url: string;
  changes?: Array<{ field: 'title' | 'severity' | 'status' | 'members'; from: string | null; to: string | null }>;
  milestone?: { name: string; label: string; at: string };
  entry?: { id: string; title: string; conclusion: string };
  hypothesis?: { id: string; statement: string; status: string };
  alert?: { id: string; title: string; status: string; source: string; url: string | null };
  tests?: Array<{ entryId: string; title: string; ranAt: string; actor: NotificationActor | null; at: string; url: string }>;
}
