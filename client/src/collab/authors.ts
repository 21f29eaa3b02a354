/**
 * Who wrote each entry, as the server's history says (GET /api/incidents/:id/authors). Fetched whole
 * at once, then only what changed since (`?after=`), a moment after the document changes: a remote
 * change is in the history by the time it arrives here, and this browser's own once the server says
 * it is durable. The last answer is kept with the document in IndexedDB, so a page opened offline
 * still says who wrote what, and a page opened online asks only for what is new.
 */
import type { EntryAuthorship, IncidentAuthors } from '../../../shared/model';
import type { IndexeddbPersistence } from 'y-indexeddb';
import type { WebsocketProvider } from 'y-websocket';
import { api, ApiFailure } from '../api';
import { Store } from '../store';

const QUIET_MS = 250;
const AT_MOST_EVERY_MS = 1000;
const KEY = 'authors';

export class AuthorsFeed {
  readonly authors = new Store<ReadonlyMap<string, EntryAuthorship>>(new Map());
  /** The server's message when it refused to say (e.g. the incident is gone). */
  readonly error = new Store<string | undefined>(undefined);
  private seq: number | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private firstAskedAt = 0;
  private fetching = false;
  private again = false;
  private stopped = false;
  private readonly restored: Promise<void>;

  constructor(
    private readonly incidentId: string,
    private readonly provider: WebsocketProvider,
    private readonly persistence: IndexeddbPersistence,
  ) {
    this.restored = persistence.get(KEY).then(
      (json: unknown) => {
        if (typeof json !== 'string' || this.seq !== undefined) return;
        const kept = JSON.parse(json) as IncidentAuthors;
        this.seq = kept.seq;
        this.authors.set(new Map(Object.entries(kept.entries)));
      },
      () => undefined, // nothing kept, or no IndexedDB: ask the server for everything
    );
  }

  /** The first answer, at once: it is what a latecomer reads alongside the log. */
  start(): void {
    void this.fetch();
  }

  /** Asks again soon; a burst of changes (someone typing) is one request, at most every second. */
  changed = (): void => {
    if (this.stopped || !this.provider.wsconnected) return;
    const now = Date.now();
    if (this.timer === undefined) this.firstAskedAt = now;
    clearTimeout(this.timer);
    const wait = Math.min(QUIET_MS, Math.max(0, this.firstAskedAt + AT_MOST_EVERY_MS - now));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.fetch();
    }, wait);
  };

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Keeps the answer with the document (fetches are at most once a second, so this is too). */
  private keep(): void {
    const kept: IncidentAuthors = { seq: this.seq!, entries: Object.fromEntries(this.authors.get()) };
    this.persistence.set(KEY, JSON.stringify(kept)).catch(() => undefined);
  }

  private async fetch(): Promise<void> {
    if (this.fetching) {
      this.again = true;
      return;
    }
    this.fetching = true;
    try {
      await this.restored;
      const after = this.seq === undefined ? '' : `?after=${this.seq}`;
      const answer = await api<IncidentAuthors>('GET', `/api/incidents/${encodeURIComponent(this.incidentId)}/authors${after}`);
      if (this.stopped) return;
      this.seq = answer.seq;
      const changed = Object.entries(answer.entries);
      if (changed.length > 0) {
        this.authors.set(new Map([...this.authors.get(), ...changed]));
        this.keep();
      }
      this.error.set(undefined);
    } catch (err) {
      // Offline: the next connection asks again. A refusal is the server's to explain.
      if (err instanceof ApiFailure) this.error.set(err.message);
    } finally {
      this.fetching = false;
      if (this.again && !this.stopped) {
        this.again = false;
        this.changed();
      }
    }
  }
}
