/**
 * The incident's alerts as they stood at a moment of a replay: only those Bridgelog had heard of by
 * then, each firing or resolved as its transitions say it was then, and on the incidents it was
 * attached to then (by its link history). The panel and the entries read it like the live AlertBook,
 * whose alerts it follows.
 */
import { alertAsOf, type Alert } from '../../../shared/alerts';
import { AlertBook } from './alert-book';

export class AlertsAsOf extends AlertBook {
  private at = '';
  private readonly stop: () => void;

  constructor(private readonly live: AlertBook) {
    super(live.incidentId);
    this.stop = live.byId.subscribe(() => this.read());
  }

  setAt(at: string): void {
    if (at === this.at) return;
    this.at = at;
    this.read();
  }

  /** An alert an entry links to is fetched by the live book, and shown here as it was. */
  override want(id: string): void {
    this.live.want(id);
  }

  destroy(): void {
    this.stop();
  }

  private read(): void {
    const next = new Map<string, Alert>();
    for (const [id, alert] of this.live.byId.get()) {
      const then = alertAsOf(alert, this.at);
      if (then) next.set(id, then);
    }
    const before = this.byId.get();
    const same =
      next.size === before.size &&
      [...next].every(([id, a]) => before.get(id)?.status === a.status && before.get(id)?.transitions.length === a.transitions.length && before.get(id)?.links.length === a.links.length);
    if (!same) this.byId.set(next);
  }
}
