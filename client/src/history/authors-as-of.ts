/**
 * Who wrote each entry and who changed it, as of a point of the replay: the bylines the log showed
 * then, from the event index (authorship comes from the server's history, never the document).
 * Moving forward only reads the new events, and an entry nobody touched keeps its object, so the
 * log's memoized entries do not render again at every step of a replay.
 */
import type { HistoryEvent } from '../../../shared/history';
import type { EntryAuthorship, UserRef } from '../../../shared/model';

export class AuthorsAsOf {
  private byEntry = new Map<string, EntryAuthorship>();
  /** Index of the first event not read yet. */
  private next = 0;

  constructor(
    private readonly events: readonly HistoryEvent[],
    private readonly user: (id: string) => UserRef,
  ) {}

  /** The bylines after record `seq`: a new map when any changed. */
  at(seq: number): ReadonlyMap<string, EntryAuthorship> {
    if (this.next > 0 && this.events[this.next - 1]!.seq > seq) {
      this.byEntry = new Map();
      this.next = 0;
    }
    let changed = false;
    for (; this.next < this.events.length && this.events[this.next]!.seq <= seq; this.next++) {
      changed = this.read(this.events[this.next]!) || changed;
    }
    if (changed) this.byEntry = new Map(this.byEntry);
    return this.byEntry;
  }

  private read(event: HistoryEvent): boolean {
    let changed = false;
    for (const change of event.changes) {
      if (change.kind === 'entry-added') {
        this.byEntry.set(change.entry, { createdBy: this.user(event.userId), loggedAt: event.at, editors: [] });
        changed = true;
      } else if (change.kind === 'entry-removed') {
        changed = this.byEntry.delete(change.entry) || changed;
      } else if (change.kind === 'entry-changed') {
        const was = this.byEntry.get(change.entry);
        if (!was) continue;
        const isNew = event.userId !== was.createdBy.id && !was.editors.some((e) => e.id === event.userId);
        this.byEntry.set(change.entry, { ...was, editors: isNew ? [...was.editors, this.user(event.userId)] : was.editors, editedAt: event.toAt });
        changed = true;
      }
    }
    return changed;
  }
}
