/**
 * A user's share of the server's time: what their requests cost (milliseconds of the event loop) is
 * charged to them by a generic cell rate algorithm — `burstMs` at once, then `share` of one core. Work
 * of a user who has used up their allowance waits until it has refilled; everyone else goes on.
 */
export interface TimeShareOptions {
  /** Share of one core a user's work may take, sustained. */
  share: number;
  /** Milliseconds a user may use at once before the share applies. */
  burstMs: number;
}

export class TimeShare {
  /** Per user: when the time they have used is paid back (performance.now()). */
  private readonly paidAt = new Map<string, number>();

  constructor(readonly options: TimeShareOptions) {}

  /** How long work of `userId` must wait before it is done; 0 for now. */
  waitMs(userId: string): number {
    const now = performance.now();
    const paidAt = this.paidAt.get(userId) ?? now;
    return Math.max(0, paidAt - now - this.options.burstMs / this.options.share);
  }

  /** Records `ms` of the server's time spent on work of `userId`. */
  charge(userId: string, ms: number): void {
    const now = performance.now();
    if (this.paidAt.size > 1000) for (const [user, at] of this.paidAt) if (at <= now) this.paidAt.delete(user);
    this.paidAt.set(userId, Math.max(this.paidAt.get(userId) ?? now, now) + ms / this.options.share);
  }
}
