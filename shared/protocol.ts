/**
 * What the server and every client of the collaboration socket must agree on: message types,
 * close codes and limits. The y-websocket wire protocol owns types 0–3; 100 is ours.
 */

/** y-websocket message types (y-protocols). */
export const MessageType = {
  sync: 0,
  awareness: 1,
  auth: 2,
  queryAwareness: 3,
  /** Server → client: the state vector of what is durable (fdatasync'd) on the server. */
  persisted: 100,
} as const;

/** y-protocols sync sub-types. */
export const SyncStep = { step1: 0, step2: 1, update: 2 } as const;

/** Close codes of the collaboration socket (docs/api.md). 1001 and 1011 are the standard "going away" and "internal error". */
export const CloseCode = {
  goingAway: 1001,
  malformed: 4400,
  unauthenticated: 4401,
  forbidden: 4403,
  notFound: 4404,
  tooLarge: 4413,
  /** More sync requests waiting than a client needs (server/collab/sync-pace.ts). */
  tooManyRequests: 4429,
  /** The durable storage (PostgreSQL) cannot be reached: nothing was acknowledged; reconnect later. */
  storageUnavailable: 4503,
  /** The server failed to store what it was sent (or cannot tell whether it did): reconnect and resend. */
  internalError: 1011,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

export const Limits = {
  /** Largest collaboration message accepted, bytes (a pasted 1 MB log fits several times over). */
  maxMessageBytes: 8 * 1024 * 1024,
  /** Largest text accepted in one Y.Text field of an entry (characters). */
  maxFieldChars: 200_000,
  maxTitleChars: 300,
  maxNameChars: 64,
  minPasswordChars: 10,
} as const;

/** Paths of the socket endpoints on the HTTP server. */
export const Paths = {
  collab: '/collab',
  events: '/socket.io',
} as const;
