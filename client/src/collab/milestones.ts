/**
 * An incident's milestones (#18) as the page shows them. The times are read from the document
 * (`milestones` map), so everyone sees a change the moment it is saved; who set each and when, the
 * backfilled mark and the server's suggestions come from `GET …/milestones`, asked again whenever
 * the map changes. Changes go through the HTTP API (`PUT`/`DELETE`), never straight into the map:
 * the server checks the time against its own clock and the incident, and keeps status in step.
 */
import type * as Y from 'yjs';
import { milestonesOf, readMilestones, type IncidentMilestones, type MilestoneSuggestion, type MilestoneView } from '../../../shared/schema/milestones';
import { api } from '../api';
import { Store } from '../store';

export type { MilestoneSuggestion };

const sameRecord = (a: Record<string, string>, b: Record<string, string>) => {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
};

/** The document's milestones, kept current: name → ISO time. */
export function watchMilestones(doc: Y.Doc): { milestones: Store<Record<string, string>>; stop: () => void } {
  const milestones = new Store<Record<string, string>>(readMilestones(doc), sameRecord);
  const onChange = () => milestones.set(readMilestones(doc));
  milestonesOf(doc).observe(onChange);
  return { milestones, stop: () => milestonesOf(doc).unobserve(onChange) };
}

/** A change to the map is asked about once it settles: a burst of changes is one request. */
const REFETCH_AFTER_MS = 250;

export class MilestoneFeed {
  /** name → view, as the server last answered (empty until it has, or offline). */
  readonly views = new Store<ReadonlyMap<string, MilestoneView>>(new Map());
  readonly suggestions = new Store<readonly MilestoneSuggestion[]>([]);
  private timer: ReturnType<typeof setTimeout> | undefined;
  private asked = 0;
  private stopped = false;
  private readonly base: string;

  constructor(
    incidentId: string,
    readonly live: Store<Record<string, string>>,
  ) {
    this.base = `/api/incidents/${encodeURIComponent(incidentId)}/milestones`;
  }

  private unsubscribe: (() => void) | undefined;

  start(): void {
    this.unsubscribe = this.live.subscribe(() => this.changed());
    void this.refresh();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.unsubscribe?.();
  }

  /** Ask again soon (the map changed, or the page's evidence did: suggestions follow it). */
  changed(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), REFETCH_AFTER_MS);
  }

  async refresh(): Promise<void> {
    const ask = ++this.asked;
    try {
      const answer = await api<IncidentMilestones>('GET', this.base);
      if (this.stopped || ask !== this.asked) return;
      this.views.set(new Map(answer.milestones.map((m) => [m.name, m])));
      this.suggestions.set(answer.suggestions ?? []);
    } catch {
      // Offline, or not answered: the times from the document still show, without who set them.
    }
  }

  /** `at`: an ISO time with its zone, `now` or `-5m`. Throws the server's error (an ApiFailure). */
  async set(name: string, at: string): Promise<MilestoneView> {
    const view = await api<MilestoneView>('PUT', `${this.base}/${encodeURIComponent(name)}`, { at });
    this.changed();
    return view;
  }

  async clear(name: string): Promise<void> {
    await api('DELETE', `${this.base}/${encodeURIComponent(name)}`);
    this.changed();
  }
}
