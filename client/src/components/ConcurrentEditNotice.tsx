/**
 * "bob also changed this conclusion while you were offline" (#16): said to the user who reconnects,
 * with both versions side by side — theirs from the server's history, this page's from just before
 * the merge — and what the field holds now, so nothing is silently glued together.
 */
import type { ConcurrentEdits } from '../collab/concurrent-edits';
import { useStore } from '../store';
import './Corrections.css';

const names = (people: Array<{ name: string }>) => people.map((p) => p.name).join(' and ');

export function ConcurrentEditNotice({ edits, onEdit }: { edits: ConcurrentEdits; onEdit: (entryId: string) => void }) {
  const notices = useStore(edits.notices);
  if (notices.length === 0) return null;
  return (
    <section className="card concurrent-edits" aria-label="Changed by others while you were offline">
      {notices.map((n) => (
        <div key={n.key} className="concurrent-edit" role="alert">
          <p>
            <strong>{names(n.others)}</strong> also changed the {n.field} of “{n.title || '(untitled)'}” while you were offline. Both changes were
            kept in it: check that it still reads right.
          </p>
          <div className="versions">
            <figure>
              <figcaption>Yours, offline</figcaption>
              <pre>{n.mine || '(empty)'}</pre>
            </figure>
            <figure>
              <figcaption>{names(n.others)}’s, from the history</figcaption>
              <pre>{n.theirs ?? '(could not be read)'}</pre>
            </figure>
            <figure>
              <figcaption>Now</figcaption>
              <pre>{n.merged || '(empty)'}</pre>
            </figure>
          </div>
          <div className="row">
            <button type="button" className="small" onClick={() => onEdit(n.entryId)}>
              Edit the entry
            </button>
            <button type="button" className="quiet small" onClick={() => edits.dismiss(n.key)}>
              Dismiss
            </button>
          </div>
        </div>
      ))}
    </section>
  );
}
