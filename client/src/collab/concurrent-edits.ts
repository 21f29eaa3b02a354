/**
 * Concurrent edits made visible (#16): when this page edited a field of an entry while offline and
 * someone else changed the same field meanwhile, Yjs merges both (text glued together); the user who
 * reconnects is told who else changed it, and is shown both versions: theirs, read from the server's
 * history (the document at the other person's last change), and this page's as it was just before
 * the merge.
 *
 * Detected on reconnect: the fields this page's own transactions touched since it lost the server
 * are compared, once the sync is done, with the history's events since then by anyone else (the
 * server's attributed history says who; the client never does).
 */
import * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';
import type { HistoryEvents } from '../../../shared/history';
import type { UserRef } from '../../../shared/model';
import { entriesOf } from '../../../shared/schema/doc';
import { api, apiGetRaw } from '../api';
import { Store } from '../store';
import { serverNowSync } from '../time';

/** The fields whose merge a person would notice. */
const WATCHED = new Set(['title', 'command', 'observations', 'conclusion']);
/** Clocks differ a little: events this much before going offline still count. */
const SLACK_MS = 2_000;

export interface ConcurrentEdit {
  key: string;
  entryId: string;
  /** The entry's title now. */
  title: string;
  field: string;
  /** Who else changed the field while this page was offline. */
  others: UserRef[];
  /** This page's version just before the merge. */
  mine: string;
  /** The other person's version (the document at their last change), when the history could be read. */
  theirs?: string;
  /** What the field holds now, merged. */
  merged: string;
}

const fieldText = (doc: Y.Doc, entryId: string, field: string): string => {
  const value = entriesOf(doc).get(entryId)?.get(field);
  return value instanceof Y.Text ? value.toString() : typeof value === 'string' ? value : '';
};

/** The entry and field a change to `type` (at `key`, for a map) is in, if it is one watched. */
function fieldOf(doc: Y.Doc, type: Y.AbstractType<unknown>, key: string | null): [string, string] | undefined {
  const entries = entriesOf(doc);
  const item = type._item;
  if (!item) return undefined;
  if (item.parent === entries && key !== null && WATCHED.has(key)) return [item.parentSub!, key];
  const entry = (item.parent as Y.AbstractType<unknown>)._item;
  if (entry?.parent === entries && item.parentSub !== null && WATCHED.has(item.parentSub)) return [entry.parentSub!, item.parentSub];
  return undefined;
}

export class ConcurrentEdits {
  readonly notices = new Store<ConcurrentEdit[]>([]);
  /** Server time when this page lost the server, after it had been in sync. */
  private offlineSince: number | undefined;
  private wasSynced = false;
  /** `entryId\tfield` this page changed while offline, and its text just before the first remote change. */
  private readonly touched = new Map<string, string | undefined>();
  private readonly stops: Array<() => void> = [];

  constructor(
    private readonly doc: Y.Doc,
    private readonly provider: WebsocketProvider,
    private readonly incidentId: string,
    private readonly userId: string,
  ) {
    const onStatus = ({ status }: { status: string }) => {
      if (status !== 'connected' && this.wasSynced && this.offlineSince === undefined) this.offlineSince = serverNowSync().getTime();
    };
    const onSync = (synced: boolean) => {
      if (!synced) return;
      this.wasSynced = true;
      if (this.offlineSince !== undefined) void this.check(this.offlineSince);
      this.offlineSince = undefined;
    };
    const onLocal = (tr: Y.Transaction) => {
      if (this.offlineSince === undefined || !tr.local) return;
      for (const [type, keys] of tr.changed) {
        for (const key of keys.size > 0 ? keys : [null]) {
          const at = fieldOf(doc, type as Y.AbstractType<unknown>, key);
          if (at && !this.touched.has(at.join('\t'))) this.touched.set(at.join('\t'), undefined);
        }
      }
    };
    // The first change from the server after reconnecting merges: read this page's version before it.
    const beforeRemote = (tr: Y.Transaction) => {
      if (tr.origin !== provider) return;
      for (const [key, mine] of this.touched) if (mine === undefined) this.touched.set(key, fieldText(doc, ...(key.split('\t') as [string, string])));
    };
    provider.on('status', onStatus);
    provider.on('sync', onSync);
    doc.on('afterTransaction', onLocal);
    doc.on('beforeTransaction', beforeRemote);
    this.stops.push(() => {
      provider.off('status', onStatus);
      provider.off('sync', onSync);
      doc.off('afterTransaction', onLocal);
      doc.off('beforeTransaction', beforeRemote);
    });
  }

  dismiss(key: string): void {
    this.notices.set(this.notices.get().filter((n) => n.key !== key));
  }

  destroy(): void {
    for (const stop of this.stops) stop();
  }

  private async check(since: number): Promise<void> {
    const touched = new Map(this.touched);
    this.touched.clear();
    if (touched.size === 0) return;
    const base = `/api/incidents/${encodeURIComponent(this.incidentId)}`;
    let index: HistoryEvents;
    try {
      index = await api<HistoryEvents>('GET', `${base}/events`);
    } catch {
      return; // offline again: nothing can be said for sure
    }
    const names = new Map(index.users.map((u) => [u.id, u]));
    const found = new Map<string, { others: Map<string, UserRef>; seq: number }>();
    for (const event of index.events) {
      if (event.userId === this.userId || Date.parse(event.toAt) < since - SLACK_MS) continue;
      for (const change of event.changes) {
        if (change.kind !== 'entry-changed') continue;
        for (const field of change.fields) {
          const key = `${change.entry}\t${field}`;
          if (!touched.has(key)) continue;
          const at = found.get(key) ?? { others: new Map(), seq: 0 };
          at.others.set(event.userId, names.get(event.userId) ?? { id: event.userId, name: 'someone' });
          at.seq = Math.max(at.seq, event.toSeq);
          found.set(key, at);
        }
      }
    }
    const notices: ConcurrentEdit[] = [];
    for (const [key, { others, seq }] of found) {
      const [entryId, field] = key.split('\t') as [string, string];
      const theirs = await apiGetRaw(`${base}/replay/state?seq=${seq}`)
        .then(async (res) => {
          const then = new Y.Doc();
          Y.applyUpdate(then, new Uint8Array(await res.arrayBuffer()));
          const text = fieldText(then, entryId, field);
          then.destroy();
          return text;
        })
        .catch(() => undefined);
      notices.push({
        key: `${key}\t${seq}`,
        entryId,
        field,
        title: fieldText(this.doc, entryId, 'title'),
        others: [...others.values()],
        mine: touched.get(key) ?? fieldText(this.doc, entryId, field),
        ...(theirs !== undefined ? { theirs } : {}),
        merged: fieldText(this.doc, entryId, field),
      });
    }
    if (notices.length > 0) this.notices.set([...this.notices.get(), ...notices]);
  }
}
