/**
 * The log's entries in the order they were run, kept current as the document changes. Only the
 * entries a change touched are read again, and an unchanged entry keeps its object, so an incident
 * with thousands of entries stays quick while someone types in one of them.
 */
import * as Y from 'yjs';
import { entriesOf, readEntry, type Entry } from '../../../shared/schema/doc';
import { Store } from '../store';

const byRanAt = (a: Entry, b: Entry) => a.ranAt.localeCompare(b.ranAt) || a.id.localeCompare(b.id);

export class EntryList {
  /** The current entries: deleted ones (#16) are left out. */
  readonly sorted = new Store<Entry[]>([]);
  /** The deleted entries, most recently run first, for the list that offers to restore them. */
  readonly deleted = new Store<Entry[]>([]);
  private readonly byId = new Map<string, Entry>();
  private readonly entries: Y.Map<Y.Map<unknown>>;

  constructor(doc: Y.Doc) {
    this.entries = entriesOf(doc);
    this.entries.observeDeep(this.onChange);
    this.read(this.entries.keys());
  }

  destroy(): void {
    this.entries.unobserveDeep(this.onChange);
  }

  private onChange = (events: Array<Y.YEvent<Y.AbstractType<unknown>>>): void => {
    const changed = new Set<string>();
    for (const event of events) {
      if (event.target === this.entries) for (const key of event.keys.keys()) changed.add(key);
      else if (typeof event.path[0] === 'string') changed.add(event.path[0]);
    }
    this.read(changed);
  };

  private read(ids: Iterable<string>): void {
    let any = false;
    for (const id of ids) {
      any = true;
      const entry = this.entries.get(id);
      if (entry instanceof Y.Map) this.byId.set(id, readEntry(id, entry));
      else this.byId.delete(id);
    }
    if (!any) return;
    const all = [...this.byId.values()].sort(byRanAt);
    const deleted = all.filter((e) => e.deleted);
    this.sorted.set(deleted.length === 0 ? all : all.filter((e) => !e.deleted));
    // Kept as it was while nothing is deleted, so what shows it does not redraw on every keystroke.
    if (deleted.length > 0 || this.deleted.get().length > 0) this.deleted.set(deleted.reverse());
  }
}
