/**
 * What the server does about a user whose connections keep being refused (malformed frames, edits
 * from a viewer, a foreign client ID, sync requests piling up): a bug or an attack, either way not
 * something to serve at full speed. Honest clients (the stock y-websocket provider, the web app) are
 * never refused, so none of this touches them.
 *
 * - **Log lines**, at most one per user per minute, each saying how many refusals it stands for.
 *   Writing a line per refusal cost the server a seventh of its CPU under the fuzzing test, and a log
 *   can fill a disk. Every refusal is still counted in the metrics.
 * - **A pace for new connections.** Each refusal uses up a share of the user's allowance: `perSecond`
 *   refusals a second, with a burst of `burst` (a generic cell rate algorithm: one timestamp per
 *   user). Past it, the user's next connection is held back — the upgrade answered later, costing the
 *   server a parked socket and no CPU — until the allowance has refilled; one that would wait longer
 *   than `maxWaitMs` is refused at once with 429 and Retry-After. Every refused connection costs the
 *   server a handshake, a sync step and a close (about 0.5 ms of its event loop here): unpaced, one
 *   client reconnecting after each refusal could make the server do that a thousand times a second,
 *   and raised the save latency of everyone else's p99 by 1.6–2.2× under the fuzzing test.
 *   Hocuspocus's Throttle extension does the like per IP address (15 connections a minute, then a
 *   five-minute ban); this paces per authenticated user, and only their refused connections.
 */
import type { Logger } from 'pino';

export const REFUSAL_LOG_INTERVAL_MS = 60_000;

export interface RefusalPace {
  /** Refused connections a second each user is allowed, sustained. */
  perSecond: number;
  /** Refused connections allowed in a burst before the pace applies. */
  burst: number;
  /** A connection that would be held back longer than this is refused with 429 instead. */
  maxWaitMs: number;
  /** Connections of one user held back at once; more are refused with 429. */
  maxHeld: number;
}

export const DEFAULT_REFUSAL_PACE: RefusalPace = { perSecond: 50, burst: 100, maxWaitMs: 5_000, maxHeld: 4 };

interface Fields {
  user: string;
  incident: string;
  code: number;
  reason: string;
}

interface UserRefusals {
  /** When the last log line was written (ms, Date.now()). */
  loggedAt: number;
  /** Refusals since that line, not written. */
  unlogged: number;
  /** When the user's allowance is whole again if nothing more is refused (ms, performance.now()). */
  fullAt: number;
  /** Connections being held back now. */
  held: number;
}

/** What to do with a new connection by a user: admit now, after `waitMs`, or refuse (429). */
export type Admission = { admit: 'now' } | { admit: 'later'; waitMs: number } | { admit: 'never'; retryAfterS: number };

export class Refusals {
  private readonly users = new Map<string, UserRefusals>();
  private readonly intervalMs: number;

  constructor(
    private readonly pace: RefusalPace = DEFAULT_REFUSAL_PACE,
    private readonly logIntervalMs = REFUSAL_LOG_INTERVAL_MS,
  ) {
    this.intervalMs = 1000 / pace.perSecond;
  }

  /** Counts a refused connection against its user, and logs it if the user's last line is old enough. */
  refused(log: Logger, userId: string, fields: Fields): void {
    const now = Date.now();
    let user = this.users.get(userId);
    if (!user) this.users.set(userId, (user = { loggedAt: -Infinity, unlogged: 0, fullAt: 0, held: 0 }));
    user.fullAt = Math.max(user.fullAt, performance.now()) + this.intervalMs;
    if (now - user.loggedAt < this.logIntervalMs) {
      user.unlogged++;
      return;
    }
    log.info({ ...fields, ...(user.unlogged > 0 ? { refusedSinceLastLine: user.unlogged } : {}) }, 'closing connection on a refused message');
    user.loggedAt = now;
    user.unlogged = 0;
  }

  /**
   * Whether a new connection by `userId` goes ahead now, later, or not at all. One told "later" must
   * call `release` once it goes ahead or goes away.
   */
  admission(userId: string): Admission {
    const user = this.users.get(userId);
    if (!user) return { admit: 'now' };
    const now = performance.now();
    const waitMs = user.fullAt - now - this.pace.burst * this.intervalMs;
    if (waitMs <= 0) {
      // Forget users whose allowance is whole and whose log line is old: the map stays small.
      if (user.fullAt <= now && user.held === 0 && user.unlogged === 0 && Date.now() - user.loggedAt >= this.logIntervalMs) this.users.delete(userId);
      return { admit: 'now' };
    }
    if (waitMs > this.pace.maxWaitMs || user.held >= this.pace.maxHeld) return { admit: 'never', retryAfterS: Math.max(1, Math.ceil(waitMs / 1000)) };
    user.held++;
    return { admit: 'later', waitMs };
  }

  release(userId: string): void {
    const user = this.users.get(userId);
    if (user) user.held = Math.max(0, user.held - 1);
  }
}
