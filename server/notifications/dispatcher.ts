/**
 * Sends what the outbox holds: claims due messages (one node at a time per message, under a lease;
 * one message at a time per destination, so a destination hears of things in order), sends each
 * (send.ts), records the attempt and what follows — delivered; tried again after an exponential
 * backoff with full jitter, or when a 429/503's Retry-After says; failed once `giveUpAfterMs` has
 * passed since the message was made (or an admin's retry) or at once when trying again cannot help.
 * Messages about an incident that has become restricted, for a destination not allowed it, are
 * withheld rather than sent.
 *
 * Off the path of every update: a slow or dead receiver holds one claim of its own destination's.
 */
import type { Logger } from 'pino';
import type { MetadataStore } from '../store/metadata.js';
import { mayReceive } from './deriver.js';
import type { AttemptRecord, MessageRecord, NotificationStore, Outcome } from './notification-store.js';
import { send, type SendOptions, type SendResult } from './send.js';
import { isUnavailable } from '../storage/postgres/database.js';

export interface DispatcherOptions extends SendOptions {
  store: NotificationStore;
  metadata: MetadataStore;
  log: Logger;
  /** This node's name on its claims. */
  owner: string;
  pollMs: number;
  /** Messages in flight at once on this node (one per destination). */
  maxInFlight: number;
  retryBaseMs: number;
  retryMaxMs: number;
  giveUpAfterMs: number;
}

/**
 * A claim's lease, renewed every third of it while the message is being sent. Short, because a node
 * that dies (SIGKILL, power) holding a claim keeps that message from every other node, and from itself
 * restarted, until its lease runs out: with a lease covering the longest send (connect and response
 * timeouts) plus a margin, a crash held a message back 32 s in the tests, 45 s by default.
 */
export const CLAIM_LEASE_MS = 10_000;

/** Longest a Retry-After is honoured for; beyond it, the usual backoff's ceiling applies. */
const MAX_RETRY_AFTER_MS = 3600_000;

/** The wait before attempt `attempt + 1`: exponential, with full jitter (random between half and all of it). */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export class NotificationDispatcher {
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Ids of the messages being sent: their leases are renewed until they are settled. */
  private readonly holding = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private renewer: NodeJS.Timeout | undefined;
  private ticking = false;
  private closed = false;

  constructor(private readonly opts: DispatcherOptions) {}

  start(): void {
    this.schedule(0);
    this.renewer = setInterval(() => void this.renew(), CLAIM_LEASE_MS / 3);
    this.renewer.unref();
  }

  /** Looks for due messages now (new messages were written). */
  wake(): void {
    if (!this.closed) this.schedule(0);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await Promise.allSettled([...this.inFlight.values()]);
    clearInterval(this.renewer);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.closed) return;
    if (this.ticking) return this.schedule(this.opts.pollMs);
    this.ticking = true;
    try {
      const room = this.opts.maxInFlight - this.inFlight.size;
      if (room > 0) {
        const claimed = await this.opts.store.claimDue(this.opts.owner, {
          now: Date.now(),
          limit: room,
          leaseMs: CLAIM_LEASE_MS,
          busy: [...this.inFlight.keys()],
        });
        for (const m of claimed) {
          this.holding.add(m.id);
          const sending = this.deliver(m).finally(() => {
            this.holding.delete(m.id);
            this.inFlight.delete(m.destinationId);
            this.wake();
          });
          this.inFlight.set(m.destinationId, sending);
        }
      }
    } catch (err) {
      if (isUnavailable(err)) this.opts.log.debug({ err: (err as Error).message }, 'could not claim notifications: PostgreSQL unavailable; trying again shortly');
      else this.opts.log.warn({ err }, 'could not claim notifications; trying again shortly');
    } finally {
      this.ticking = false;
      if (!this.closed) this.schedule(this.opts.pollMs);
    }
  }

  /** Keeps the claims of the messages being sent (a send may take the connect and response timeouts, 15 s by default). */
  private async renew(): Promise<void> {
    if (this.holding.size === 0) return;
    try {
      await this.opts.store.renew([...this.holding], this.opts.owner, CLAIM_LEASE_MS);
    } catch (err) {
      // Not renewed: if the lease runs out, another node may send the message too (same id: receivers deduplicate).
      this.opts.log.debug({ err: (err as Error).message }, 'could not renew notification claims; trying again shortly');
    }
  }

  private async deliver(m: MessageRecord): Promise<void> {
    const { store, metadata, log } = this.opts;
    const started = Date.now();
    let result: SendResult;
    let outcome: Outcome | undefined;
    try {
      const destination = await store.destination(m.destinationId);
      const incident = metadata.incidentById(m.incidentId);
      if (!destination) result = { ok: false, error: 'the destination was removed', permanent: true };
      else if (!destination.enabled) {
        result = { ok: false, error: 'the destination is disabled' };
        outcome = { status: 'withheld', error: result.error! };
      } else if (!incident || !mayReceive(destination, incident)) {
        result = { ok: false, error: 'the incident is restricted, and this destination is not allowed to receive it' };
        outcome = { status: 'withheld', error: result.error! };
      } else result = await send(destination, m, this.opts);
    } catch (err) {
      result = { ok: false, error: (err as Error).message };
    }
    const finished = Date.now();
    outcome ??= this.outcomeOf(m, result, finished);
    const attempt: AttemptRecord = {
      messageId: m.id,
      destinationId: m.destinationId,
      at: new Date(started).toISOString(),
      durationMs: finished - started,
      ok: result.ok,
      ...(result.statusCode !== undefined ? { statusCode: result.statusCode } : {}),
      ...(result.error !== undefined ? { error: result.error } : {}),
      ...(result.excerpt !== undefined ? { excerpt: result.excerpt } : {}),
    };
    try {
      if (!(await store.settle(m.id, this.opts.owner, attempt, outcome))) log.warn({ message: m.id }, 'a notification claim ran out before its attempt was recorded; it will be sent again');
    } catch (err) {
      log.warn({ err, message: m.id }, 'could not record a notification attempt; it will be sent again after its lease');
    }
    if (outcome.status === 'failed') log.warn({ message: m.id, destination: m.destinationId, error: outcome.error }, 'notification failed');
  }

  private outcomeOf(m: MessageRecord, result: SendResult, now: number): Outcome {
    if (result.ok) return { status: 'delivered' };
    const error = result.error ?? 'failed';
    const attempts = m.attempts + 1;
    if (result.permanent) return { status: 'failed', error };
    const wait =
      result.retryAfterMs !== undefined ? Math.min(result.retryAfterMs, MAX_RETRY_AFTER_MS) : backoffMs(attempts, this.opts.retryBaseMs, this.opts.retryMaxMs);
    const next = now + wait;
    if (next - m.since > this.opts.giveUpAfterMs) {
      return { status: 'failed', error: `gave up after ${attempts} attempt${attempts === 1 ? '' : 's'} over ${Math.round((now - m.since) / 1000)} s: ${error}` };
    }
    return { status: 'pending', nextAttemptAt: next, error };
  }
}
