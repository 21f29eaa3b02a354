/**
 * A replay's own copy of the incident's document, read the same way as the live one (EntryList,
 * hypotheses, meta, milestones) but connected to nothing: replaying never touches the live document.
 */
import * as Y from 'yjs';
import { getEntry, hypothesesOf, listHypotheses, metaOf, readMeta, type Hypothesis, type Meta } from '../../../shared/schema/doc';
import type { ReplayRecord } from '../../../shared/replay-wire';
import { EntryList } from '../collab/entry-list';
import { watchMilestones } from '../collab/milestones';
import { Store } from '../store';

export class ReplayedDoc {
  readonly doc = new Y.Doc();
  readonly entries: EntryList;
  readonly hypotheses = new Store<Hypothesis[]>([]);
  readonly meta = new Store<Meta>({});
  /** The milestones as they stood at the replayed moment (name → ISO time). */
  readonly milestones: Store<Record<string, string>>;
  private readonly stopMilestones: () => void;

  constructor(state: Uint8Array) {
    Y.applyUpdate(this.doc, state);
    this.entries = new EntryList(this.doc);
    const milestones = watchMilestones(this.doc);
    this.milestones = milestones.milestones;
    this.stopMilestones = milestones.stop;
    this.readHypotheses();
    this.readMeta();
    hypothesesOf(this.doc).observeDeep(this.readHypotheses);
    metaOf(this.doc).observe(this.readMeta);
  }

  /** Plays records forward in one transaction, so the views read the document once per batch, not per record. */
  apply(records: readonly ReplayRecord[]): void {
    if (records.length === 0) return;
    this.doc.transact(() => {
      for (const record of records) Y.applyUpdate(this.doc, record.update);
    });
  }

  isDeleted(entryId: string): boolean {
    return getEntry(this.doc, entryId)?.deleted === true;
  }

  titleOf(entryId: string): string | undefined {
    return getEntry(this.doc, entryId)?.title;
  }

  destroy(): void {
    this.stopMilestones();
    this.entries.destroy();
    this.doc.destroy();
  }

  private readHypotheses = () => this.hypotheses.set(listHypotheses(this.doc));
  private readMeta = () => this.meta.set(readMeta(this.doc));
}
