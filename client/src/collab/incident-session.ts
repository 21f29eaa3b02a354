/**
 * One incident open in this browser: its shared document, kept in IndexedDB so it can be read and
 * written offline (and across a reload), synced over the collaboration socket by the stock
 * y-websocket provider with the session cookie. Only the server carries updates between clients
 * (no BroadcastChannel between tabs), so every change is attributed and made durable there.
 *
 * The socket opens only once the IndexedDB copy is loaded, so what this browser kept goes to the
 * server as part of the first sync.
 */
import { useEffect, useState } from 'react';
import * as decoding from 'lib0/decoding';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { IndexeddbPersistence } from 'y-indexeddb';
import type { User } from '../../../shared/model';
import { CloseCode, MessageType, Paths } from '../../../shared/protocol';
import { hypothesesOf, listHypotheses, metaOf, readMeta, type Hypothesis, type Meta } from '../../../shared/schema/doc';
import { forgetOne } from '../offline';
import { Store } from '../store';
import { AuthorsFeed } from './authors';
import { EntryList } from './entry-list';
import { LocalChanges } from './local-changes';
import { Undo } from './undo';
import { ConcurrentEdits } from './concurrent-edits';
import { MilestoneFeed, watchMilestones } from './milestones';
import { announce, watchPresence, type Presence } from './presence';
import { watchSaveState, type SaveState } from './save-state';

const collabUrl = () => `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}${Paths.collab}`;

export class IncidentSession {
  readonly doc = new Y.Doc();
  readonly provider: WebsocketProvider;
  readonly entries: EntryList;
  readonly hypotheses = new Store<Hypothesis[]>([]);
  /** Deleted hypotheses (#16), for the list that offers to restore them. */
  readonly deletedHypotheses = new Store<Hypothesis[]>([]);
  /** Undo and redo of this user's own changes in this page (#16). */
  readonly undo: Undo;
  /** Fields this page changed offline that someone else changed meanwhile (#16). */
  readonly concurrent: ConcurrentEdits;
  readonly meta = new Store<Meta>({});
  readonly save: Store<SaveState>;
  readonly presence: Store<Presence>;
  readonly authors: AuthorsFeed;
  /** The milestones' times, live from the document (name → ISO time). */
  readonly milestones: Store<Record<string, string>>;
  /** Who set each milestone, backfilled marks and suggestions, from the HTTP API; writes go there too. */
  readonly milestoneFeed: MilestoneFeed;
  /** Why the server refused the connection for good (e.g. "read-only: viewers cannot edit"). */
  readonly refused = new Store<string | undefined>(undefined);
  /** The incident does not exist for this user (any more): restricted to others, or gone. */
  readonly gone = new Store(false);
  /** Whether this browser's copy has been read from IndexedDB (or found unusable). */
  readonly loaded = new Store(false);
  /** False when IndexedDB cannot be used: offline changes then last only as long as this page. */
  readonly keptInBrowser = new Store(true);
  private readonly persistence: IndexeddbPersistence;
  private readonly local: LocalChanges;
  private readonly stops: Array<() => void> = [];
  private phase: 'loading' | 'started' | 'destroyed' = 'loading';

  constructor(
    readonly incidentId: string,
    readonly user: User,
  ) {
    // Per user: another account logging in on this browser must not send (or see) this one's changes.
    this.persistence = new IndexeddbPersistence(`bridgelog:${user.id}:${incidentId}`, this.doc);
    this.local = new LocalChanges(`bridgelog:changes:${user.id}:${incidentId}`);
    this.provider = new WebsocketProvider(collabUrl(), encodeURIComponent(incidentId), this.doc, { connect: false, disableBc: true });
    this.entries = new EntryList(this.doc);
    this.undo = new Undo(this.doc);
    this.concurrent = new ConcurrentEdits(this.doc, this.provider, incidentId, user.id);
    this.authors = new AuthorsFeed(incidentId, this.provider, this.persistence);
    const milestones = watchMilestones(this.doc);
    this.milestones = milestones.milestones;
    this.stops.push(milestones.stop);
    this.milestoneFeed = new MilestoneFeed(incidentId, this.milestones);

    const saving = watchSaveState(this.provider, this.local);
    this.save = saving.state;
    this.stops.push(saving.stop);
    this.provider.messageHandlers[MessageType.persisted] = (_encoder, decoder) => {
      saving.persisted(Y.decodeStateVector(decoding.readVarUint8Array(decoder)));
      this.authors.changed();
    };

    announce(this.provider.awareness, user);
    const watching = watchPresence(this.provider.awareness, user);
    this.presence = watching.presence;
    this.stops.push(watching.stop);

    const onMeta = () => this.meta.set(readMeta(this.doc));
    const onHypotheses = () => {
      const all = listHypotheses(this.doc, { includeDeleted: true });
      this.hypotheses.set(all.filter((h) => !h.deleted));
      this.deletedHypotheses.set(all.filter((h) => h.deleted));
    };
    metaOf(this.doc).observe(onMeta);
    hypothesesOf(this.doc).observeDeep(onHypotheses);
    const onUpdate = (_update: Uint8Array, origin: unknown) => {
      if (origin === this.provider) this.authors.changed();
    };
    this.doc.on('update', onUpdate);
    const onStatus = ({ status }: { status: string }) => {
      if (status !== 'connected') return;
      this.authors.changed();
      this.milestoneFeed.changed();
    };
    this.provider.on('status', onStatus);
    this.provider.on('closed', this.onClosed);
    this.stops.push(() => {
      metaOf(this.doc).unobserve(onMeta);
      hypothesesOf(this.doc).unobserveDeep(onHypotheses);
      this.doc.off('update', onUpdate);
      this.provider.off('status', onStatus);
      this.provider.off('closed', this.onClosed);
    });

    // Reconnects spread out (full jitter): when a node dies, its clients do not all come back to the
    // next one at the same instant, as y-websocket's own fixed backoff would have them. Closes the
    // server meant for good (4400-4499) and our own (no event) are left to the provider.
    let retry: ReturnType<typeof setTimeout> | undefined;
    const onConnectionClose = (event: CloseEvent | null) => {
      if (!event || (event.code >= 4400 && event.code < 4500) || this.phase !== 'started') return;
      this.provider.shouldConnect = false; // the provider's own timer finds nothing to do
      clearTimeout(retry);
      const attempt = Math.min(this.provider.wsUnsuccessfulReconnects + 1, 5);
      retry = setTimeout(() => {
        if (this.phase === 'started' && this.refused.get() === undefined && !this.provider.shouldConnect) this.provider.connect();
      }, 100 + Math.random() * Math.min(4000, 200 * 2 ** attempt));
    };
    this.provider.on('connection-close', onConnectionClose);
    this.stops.push(() => {
      clearTimeout(retry);
      this.provider.off('connection-close', onConnectionClose);
    });

    // The browser knows about a lost network before the socket does (a dead socket takes up to
    // 30 s to time out): show "Offline" at once, and reconnect as soon as the network is back.
    const reconnectNow = () => {
      if (this.phase !== 'started' || this.refused.get() !== undefined) return;
      this.provider.disconnect();
      this.provider.connect();
    };
    const onOnline = () => {
      if (!this.provider.wsconnected) reconnectNow();
    };
    window.addEventListener('offline', reconnectNow);
    window.addEventListener('online', onOnline);
    this.stops.push(() => {
      window.removeEventListener('offline', reconnectNow);
      window.removeEventListener('online', onOnline);
    });

    void this.persistence.whenSynced.then(() => this.start());
    this.persistence._db.catch(() => {
      this.keptInBrowser.set(false);
      this.start();
    });
  }

  private start(): void {
    if (this.phase !== 'loading') return;
    this.phase = 'started';
    this.local.adopt(this.doc);
    this.loaded.set(true);
    this.provider.connect();
    this.authors.start();
    this.milestoneFeed.start();
  }

  private onClosed = ({ code, reason }: { code: number; reason: string }): void => {
    // The session expired while the page was open: log in again, then come back here.
    if (code === CloseCode.unauthenticated) return window.location.assign('/login');
    if (code === CloseCode.notFound) {
      // Restricted to others while open here: what this browser kept of it goes too.
      this.gone.set(true);
      forgetOne(`/api/incidents/${encodeURIComponent(this.incidentId)}`);
      void this.persistence.clearData().catch(() => undefined);
    }
    this.refused.set(reason || 'the server closed the connection');
  };

  destroy(): void {
    this.phase = 'destroyed'; // a load that finishes after this must not connect
    for (const stop of this.stops) stop();
    this.authors.stop();
    this.milestoneFeed.stop();
    this.entries.destroy();
    this.undo.destroy();
    this.concurrent.destroy();
    this.provider.awareness.destroy();
    this.provider.destroy();
    this.doc.destroy(); // also closes IndexedDB
  }
}

/** The session for an incident while the component using it is on screen. */
export function useIncidentSession(incidentId: string, user: User): IncidentSession | undefined {
  const [session, setSession] = useState<IncidentSession>();
  useEffect(() => {
    const opened = new IncidentSession(incidentId, user);
    setSession(opened);
    return () => {
      opened.destroy();
      setSession(undefined);
    };
  }, [incidentId, user]);
  return session;
}
