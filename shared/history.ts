/**
 * The incident's history as the timeline, replay and catch-up views read it (docs/api.md,
 * "History"). Every time is the server's receive time, ISO-8601 UTC with milliseconds; every author
 * comes from authentication, never from the document.
 */
import type { UserRef } from './model.js';

/** One thing a record of the history did to the document. */
export type HistoryChange =
  | { kind: 'entry-added'; entry: string; entryKind: string; title: string }
  | { kind: 'entry-changed'; entry: string; fields: string[]; attachmentsAdded?: string[] }
  | { kind: 'entry-removed'; entry: string }
  | { kind: 'hypothesis-added'; hypothesis: string; statement: string; status: string }
  | { kind: 'verdict'; hypothesis: string; statement: string; status: string }
  | { kind: 'hypothesis-changed'; hypothesis: string; field: string }
  | { kind: 'hypothesis-removed'; hypothesis: string }
  /** A field of the incident itself (`status`, `severity`, `title`, `resolvedAt`…); `null` when removed. */
  | { kind: 'incident'; field: string; value: string | null }
  /** A milestone (#18) set to `value` (ISO-8601 UTC, the time it names), or removed (`null`). */
  | { kind: 'milestone'; name: string; value: string | null };

/**
 * Records `seq`…`toSeq` of one person: a single record, or a run of edits to the same entries
 * with no more than a minute between them (typing a paragraph is one event, not hundreds).
 */
export interface HistoryEvent {
  seq: number;
  toSeq: number;
  at: string;
  toAt: string;
  userId: string;
  changes: HistoryChange[];
}

/** `GET /api/incidents/:id/events`: the event index of the history, oldest first. */
export interface HistoryEvents {
  /** The last record covered: pass it back as `?after=` for what came since. */
  seq: number;
  /** Receive time of the first and the last record (absent while there is no history). */
  firstAt?: string;
  lastAt?: string;
  users: UserRef[];
  events: HistoryEvent[];
}

/**
 * A point of the history: everything up to record `seq`, and the moment it stands for (that record's
 * receive time, or when someone left: alerts heard after it are news to them).
 */
export interface HistoryMark {
  seq: number;
  at: string;
}

/** One line of a catch-up digest: a net change between two marks, who made it and when it last changed. */
export type DigestItem = { by: UserRef[]; at: string } & (
  | { kind: 'entry-added'; entry: string; entryKind: string; title: string; conclusion: string; attachments: number }
  | { kind: 'entry-removed'; entry: string; title: string }
  | { kind: 'conclusion'; entry: string; title: string; conclusion: string; previous: string }
  | { kind: 'entry-changed'; entry: string; title: string; fields: string[] }
  | { kind: 'evidence'; entry: string; title: string; attachments: string[]; links: number }
  | { kind: 'hypothesis-added'; hypothesis: string; statement: string; status: string }
  | { kind: 'verdict'; hypothesis: string; statement: string; from: string; to: string }
  | { kind: 'incident'; field: string; from: string | null; to: string | null }
  /** A milestone (#18) set, moved or removed: `to` is the time it names now (null: removed). */
  | { kind: 'milestone'; name: string; label: string; from: string | null; to: string | null }
  | { kind: 'alert-fired' | 'alert-resolved'; alert: string; title: string }
  /** Attached to or detached from the incident (by hand, or attached by its label matchers: `by` empty). */
  | { kind: 'alert-attached' | 'alert-detached'; alert: string; title: string }
);

/** `GET /api/incidents/:id/digest`: what changed between `since` and `until`. */
export interface Digest {
  since: HistoryMark;
  until: HistoryMark;
  /** True when `since` is the caller's own last-seen mark (the "since you left" digest). */
  sinceLastSeen: boolean;
  /**
   * The caller has no last-seen mark: never here before, so `since` is the incident's start (#16).
   * In this digest and the "since you left" one, changes made only by the caller are left out.
   */
  firstVisit?: true;
  items: DigestItem[];
}
