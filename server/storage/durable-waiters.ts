/** Callers of an appender's `whenDurable(seq)`, released in seq order as group commits land (both logs share it). */
export class DurableWaiters {
  private waiting: Array<{ seq: number; resolve: () => void; reject: (e: Error) => void }> = [];

  /** Resolves once `reached` covers `seq`; rejects if `fail` comes first. */
  wait(seq: number): Promise<void> {
    return new Promise((resolve, reject) => this.waiting.push({ seq, resolve, reject }));
  }

  /** Every record up to `seq` is durable. */
  reached(seq: number): void {
    if (this.waiting.length === 0) return;
    this.waiting = this.waiting.filter((w) => (w.seq <= seq ? (w.resolve(), false) : true));
  }

  /** Nothing more will become durable. */
  fail(err: Error): void {
    for (const w of this.waiting) w.reject(err);
    this.waiting = [];
  }
}
