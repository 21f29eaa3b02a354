/**
 * The alerts this page knows, in one map so the panel and the entries show an alert alike: the
 * incident's (fetched on every (re)connect, then kept current by `server:alert-changed`) and any
 * other one an entry links to (fetched once by id).
 */
import type { Alert } from '../../../shared/alerts';
import { api } from '../api';
import { getRemembered } from '../offline';
import { Store } from '../store';

export class AlertBook {
  readonly byId = new Store<ReadonlyMap<string, Alert>>(new Map());
  private readonly asked = new Set<string>();
  /** Events that arrive while a fetch is under way are newer than its answer. */
  private readonly fetches = new Set<Alert[]>();

  constructor(readonly incidentId: string) {}

  put = (alert: Alert): void => {
    for (const arrived of this.fetches) arrived.push(alert);
    this.byId.set(new Map(this.byId.get()).set(alert.id, alert));
  };

  async load(): Promise<void> {
    const arrived: Alert[] = [];
    this.fetches.add(arrived);
    try {
      // Detached ones too: a replay shows them where they were attached then.
      // Remembered for offline: an entry's linked alerts keep their names, not bare ids (#16).
      const list = await getRemembered<Alert[]>(`/api/alerts?incident=${encodeURIComponent(this.incidentId)}&include=detached`);
      const next = new Map(this.byId.get());
      // Detached while this page was not listening: the answer no longer has it.
      for (const [id, alert] of next) {
        if (alert.incidents.includes(this.incidentId)) next.set(id, { ...alert, incidents: alert.incidents.filter((i) => i !== this.incidentId) });
      }
      for (const alert of [...list, ...arrived]) next.set(alert.id, alert);
      this.byId.set(next);
    } finally {
      this.fetches.delete(arrived);
    }
  }

  /** Fetches an alert an entry links to, once: one this user may not see stays a bare id. */
  want(id: string): void {
    if (this.byId.get().has(id) || this.asked.has(id)) return;
    this.asked.add(id);
    getRemembered<Alert>(`/api/alerts/${encodeURIComponent(id)}`).then(this.put, () => undefined);
  }

  async attach(alertId: string): Promise<void> {
    this.put(await api<Alert>('POST', `/api/incidents/${encodeURIComponent(this.incidentId)}/alerts`, { alertId }));
  }

  async detach(alertId: string): Promise<void> {
    this.put(await api<Alert>('DELETE', `/api/incidents/${encodeURIComponent(this.incidentId)}/alerts/${encodeURIComponent(alertId)}`));
  }
}

/** Firing first, then the newest. */
export const byUrgency = (a: Alert, b: Alert) => (a.status === b.status ? b.startsAt.localeCompare(a.startsAt) : a.status === 'firing' ? -1 : 1);
