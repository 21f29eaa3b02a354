/**
 * The API's vocabulary and response shapes, without validation code, so the web app can import them
 * without bundling zod. Request schemas are in api.ts.
 */
export const Roles = ['admin', 'responder', 'viewer'] as const;
export type Role = (typeof Roles)[number];

export const Severities = ['sev1', 'sev2', 'sev3', 'sev4'] as const;
export type Severity = (typeof Severities)[number];

export const IncidentStatuses = ['investigating', 'identified', 'monitoring', 'resolved'] as const;
export type IncidentStatus = (typeof IncidentStatuses)[number];

export interface User {
  id: string;
  name: string;
  role: Role;
}

export interface CreatedUser extends User {
  /** API token, shown once. */
  token: string;
}

/** A user as admins see them in the list: removed users stay listed (their names are in histories). */
export interface UserDetails extends User {
  createdAt: string;
  /** When an admin removed them; absent while active. */
  deactivatedAt?: string;
}

/** A personal API token as its owner sees it (never the secret, except once when created). */
export interface ApiToken {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt?: string;
}

export interface CreatedApiToken extends ApiToken {
  /** The secret, shown this once. */
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
  /** Present on restricted incidents: the only users for whom it exists, by id or IdP group (`group:<name>`, shared/members.ts). */
  members?: string[];
  /** Label matchers (e.g. `site=ny`, `alertname=~Interface.*`): matching alerts attach as they arrive. */
  alertMatchers?: string[];
  /**
   * The milestones (#18) as the document holds them, name → ISO-8601 UTC time, mirrored like the
   * status so lists and trends need no document; absent while none is set. Who set each: `GET …/milestones`.
   */
  milestones?: Record<string, string>;
  /** The alert this incident was declared from in the alert inbox, if it was (`POST /api/alerts/:id/declare`). */
  declaredFrom?: string;
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

export interface UserRef {
  id: string;
  name: string;
}

/** Who wrote an entry, as the server's history says (never a field of the document). */
export interface EntryAuthorship {
  createdBy: UserRef;
  /** When the server received the entry, ISO-8601 UTC. */
  loggedAt: string;
  /** Everyone else who changed it since, in the order they first did. */
  editors: UserRef[];
  /** When it last changed after it was logged, ISO-8601 UTC. */
  editedAt?: string;
  /** Deleted (#16): who deleted it and when the server received that, from the history. */
  deletedBy?: UserRef;
  deletedAt?: string;
}

export interface IncidentAuthors {
  /** The history this answer covers: pass it back as `?after=` for what changed since. */
  seq: number;
  entries: Record<string, EntryAuthorship>;
}
