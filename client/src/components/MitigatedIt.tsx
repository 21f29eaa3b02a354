/**
 * "This mitigated it" on an entry (#18): the test or action that stopped the impact is marked
 * (`mitigated: true` on the entry, in the document, so it is in the attributed history), and the
 * page offers to set the `mitigated` milestone at the time the entry ran. Only on the live page for
 * those who may write: the context is empty in a replay and for viewers.
 */
import { createContext, useContext, useState } from 'react';
import type * as Y from 'yjs';
import { setMitigated, type Entry } from '../../../shared/schema/doc';
import type { MilestoneFeed } from '../collab/milestones';
import { Store, useStore } from '../store';
import { formatUtc } from '../time';
import { failureReason, shortUtc } from './Milestones';

const NO_MILESTONES = new Store<Record<string, string>>({});

export const MilestoneContext = createContext<MilestoneFeed | undefined>(undefined);

/** The mark on an entry, for everyone (replays included). */
export function MitigatedMark({ entry }: { entry: Entry }) {
  return entry.mitigated ? <span className="mitigated-mark">mitigated it</span> : null;
}

/** The action in the entry's footer. */
export function MitigatedButton({ doc, entry, onOffer }: { doc: Y.Doc; entry: Entry; /** Marked: offer the milestone; unmarked: take the offer away. */ onOffer: (offer: boolean) => void }) {
  const feed = useContext(MilestoneContext);
  if (!feed) return null;
  const marked = entry.mitigated === true;
  return (
    <button
      type="button"
      className="quiet small"
      aria-pressed={marked}
      title={marked ? 'Take back "this mitigated it"' : 'Mark this as what mitigated the incident, and set the mitigated milestone'}
      onClick={() => {
        setMitigated(doc, entry.id, !marked);
        onOffer(!marked);
      }}
    >
      {marked ? 'Mitigated it ✓' : 'This mitigated it'}
    </button>
  );
}

/** After marking: set (or move) the `mitigated` milestone to when the entry ran? */
export function MitigatedOffer({ entry, onDone }: { entry: Entry; onDone: () => void }) {
  const feed = useContext(MilestoneContext);
  const live = useStore(feed?.live ?? NO_MILESTONES);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  if (!feed) return null;
  const current = live.mitigated;
  if (current === entry.ranAt) return null;
  const set = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await feed.set('mitigated', entry.ranAt);
      onDone();
    } catch (err) {
      setError(`Mitigated not set: ${failureReason(err)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="mitigated-offer" role="group" aria-label="Set the mitigated milestone">
      <span>
        {current ? `Move Mitigated from ${shortUtc(current)} to when this ran, ${formatUtc(entry.ranAt)}?` : `Set Mitigated to when this ran, ${formatUtc(entry.ranAt)}?`}
      </span>
      <button type="button" className="small" disabled={busy} onClick={() => void set()}>
        {current ? 'Move Mitigated' : 'Set Mitigated'}
      </button>
      <button type="button" className="quiet small" onClick={onDone}>
        Not now
      </button>
      {error && (
        <span className="error-text" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}
