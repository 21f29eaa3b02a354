/** Marks what an entry says about each hypothesis: supports it, refutes it, or has no bearing on it. */
import type * as Y from 'yjs';
import { setVerdict, type Entry, type Hypothesis, type Verdict } from '../../../shared/schema/doc';

interface Props {
  doc: Y.Doc;
  entry: Entry;
  hypotheses: Hypothesis[];
  onClose: () => void;
}

export function EvidencePicker({ doc, entry, hypotheses, onClose }: Props) {
  return (
    <fieldset className="evidence-picker" onKeyDown={(e) => e.key === 'Escape' && onClose()}>
      <legend>What “{entry.title}” says about each hypothesis</legend>
      {hypotheses.length === 0 && <p className="hint">No hypotheses yet: add one under “What we know” (press h).</p>}
      {hypotheses.map((h, i) => (
        <label key={h.id} className="verdict-choice">
          <span>{h.statement}</span>
          <select
            autoFocus={i === 0}
            value={entry.hypotheses[h.id] ?? ''}
            onChange={(e) => setVerdict(doc, entry.id, h.id, (e.target.value || null) as Verdict | null)}
          >
            <option value="">no bearing</option>
            <option value="supports">supports</option>
            <option value="refutes">refutes</option>
          </select>
        </label>
      ))}
      <button type="button" className="quiet small" onClick={onClose}>
        Done
      </button>
    </fieldset>
  );
}
