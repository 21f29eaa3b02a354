/**
 * Who is here (y-protocols awareness), bounded. A connection may speak only for its own client IDs —
 * ones no other user has written with or announced — and each ID it announces is claimed for its
 * user for as long as the document is loaded: the awareness of one user shows the client ID their
 * edits will carry, and nobody else may then take that ID (to write under it, and so lock its owner
 * out, or to set presence in its name). States are small and their rate is bounded: past the rate a
 * connection's latest state waits for its turn instead of being sent at once (only the newest is kept).
 */
import type { ClientBindings } from '../history/attribution.js';
import type { Connection } from './connection.js';
import type { AwarenessEntry } from './protocol.js';

export const PresenceLimits = {
  /** Largest presence state of one client, bytes of JSON (a cursor and a name are a few hundred). */
  maxStateBytes: 8 * 1024,
  /** Client IDs one connection may announce (the stock provider uses one). */
  maxIdsPerConnection: 4,
  /** Presence updates a connection may send per second before the rest wait (a fast typist: ~15). */
  perSecond: 20,
  burst: 40,
} as const;

interface Pace {
  tokens: number;
  at: number;
  /** Entries held back for lack of tokens, newest per client ID. */
  waiting: Map<number, AwarenessEntry>;
  timer?: NodeJS.Timeout;
}

export class PresenceGuard {
  /** Client IDs claimed by a user's presence (beside those bound by writing, in ClientBindings). */
  private readonly claims = new Map<number, string>();
  private readonly paces = new Map<Connection, Pace>();

  constructor(
    private readonly bindings: ClientBindings,
    /** Applies entries that passed, as if just received from `conn`. */
    private readonly apply: (conn: Connection, entries: AwarenessEntry[]) => void,
  ) {}

  /** The user a client ID belongs to, by writing or by presence. */
  ownerOf(clientId: number): string | undefined {
    return this.bindings.ownerOf(clientId) ?? this.claims.get(clientId);
  }

  /** The first client ID in `clients` that belongs to someone other than `userId`, if any. */
  foreignClient(clients: Iterable<number>, userId: string): number | undefined {
    for (const c of clients) {
      const owner = this.ownerOf(c);
      if (owner !== undefined && owner !== userId) return c;
    }
    return undefined;
  }

  /**
   * Claims and paces one awareness update of `conn` (decoded with PresenceLimits.maxStateBytes).
   * Entries for other users' client IDs are dropped without a word: the stock provider echoes every
   * presence change it hears back to the server, so an honest client sends them all the time.
   */
  receive(conn: Connection, received: AwarenessEntry[]): void {
    const entries: AwarenessEntry[] = [];
    for (const entry of received) {
      const owner = this.ownerOf(entry.clientId);
      if (owner !== undefined && owner !== conn.user.id) continue;
      if (entry.state === null) {
        // A removal claims nothing: it is often an echo of someone who left.
        if (owner !== undefined) entries.push(entry);
        continue;
      }
      if (!conn.awarenessIds.has(entry.clientId)) {
        if (conn.awarenessIds.size >= PresenceLimits.maxIdsPerConnection) continue;
        conn.awarenessIds.add(entry.clientId);
        this.claims.set(entry.clientId, conn.user.id);
      }
      entries.push(entry);
    }
    if (entries.length === 0) return;
    const pace = this.paceOf(conn);
    if (pace.waiting.size === 0 && this.take(pace)) return this.apply(conn, entries);
    for (const entry of entries) pace.waiting.set(entry.clientId, entry);
    this.schedule(conn, pace);
  }

  /** Forgets a connection that left (its claims stay: its user may come back with the same IDs). */
  leave(conn: Connection): void {
    clearTimeout(this.paces.get(conn)?.timer);
    this.paces.delete(conn);
  }

  private paceOf(conn: Connection): Pace {
    let pace = this.paces.get(conn);
    if (!pace) this.paces.set(conn, (pace = { tokens: PresenceLimits.burst, at: performance.now(), waiting: new Map() }));
    return pace;
  }

  private take(pace: Pace): boolean {
    const now = performance.now();
    pace.tokens = Math.min(PresenceLimits.burst, pace.tokens + ((now - pace.at) / 1000) * PresenceLimits.perSecond);
    pace.at = now;
    if (pace.tokens < 1) return false;
    pace.tokens -= 1;
    return true;
  }

  private schedule(conn: Connection, pace: Pace): void {
    if (pace.timer) return;
    const waitMs = Math.ceil(((1 - pace.tokens) / PresenceLimits.perSecond) * 1000);
    pace.timer = setTimeout(() => {
      pace.timer = undefined;
      if (this.paces.get(conn) !== pace) return;
      if (!this.take(pace)) return this.schedule(conn, pace);
      const entries = [...pace.waiting.values()];
      pace.waiting.clear();
      this.apply(conn, entries);
    }, Math.max(1, waitMs));
    pace.timer.unref();
  }
}
