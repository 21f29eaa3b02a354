/**
 * Log lines for refused messages, at most one per user per minute, each saying how many were refused
 * since the last. A client sending thousands of bad frames (a bug or an attack) must not turn into
 * thousands of log lines: writing them cost the server a seventh of its CPU under the fuzzing test,
 * and a log can fill a disk. Every refusal is still counted in the metrics.
 */
import type { Logger } from 'pino';

export const REFUSAL_LOG_INTERVAL_MS = 60_000;

interface Fields {
  user: string;
  incident: string;
  code: number;
  reason: string;
}

export class RefusalLog {
  /** Per user: when the last line was written, and refusals since then not written. */
  private readonly users = new Map<string, { loggedAt: number; unlogged: number }>();

  constructor(private readonly intervalMs = REFUSAL_LOG_INTERVAL_MS) {}

  refused(log: Logger, userId: string, fields: Fields): void {
    const now = Date.now();
    const seen = this.users.get(userId);
    if (seen && now - seen.loggedAt < this.intervalMs) {
      seen.unlogged++;
      return;
    }
    const unlogged = seen?.unlogged ?? 0;
    log.info({ ...fields, ...(unlogged > 0 ? { refusedSinceLastLine: unlogged } : {}) }, 'closing connection on a refused message');
    this.users.set(userId, { loggedAt: now, unlogged: 0 });
  }
}
