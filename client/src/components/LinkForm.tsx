/** Adds a link to evidence that lives elsewhere (a dashboard, a ticket, a shared capture): URL and label. */
import type * as Y from 'yjs';
import { addLink } from '../collab/entry-evidence';
import { safeHref } from '../safe-url';
import { field, useSubmit } from './form';

const MAX_LABEL = 200;

export function LinkForm({ doc, entryId, onDone }: { doc: Y.Doc; entryId: string; onDone: () => void }) {
  const { onSubmit, error } = useSubmit(async (fields) => {
    const url = safeHref(field(fields, 'url').trim());
    if (!url) throw new Error('Give a web address starting with https:// or http://');
    const label = field(fields, 'label').trim().slice(0, MAX_LABEL);
    addLink(doc, entryId, { url, label: label || new URL(url).host });
    onDone();
  });
  return (
    <form className="link-form" aria-label="Add a link" onSubmit={onSubmit} onKeyDown={(e) => e.key === 'Escape' && onDone()}>
      <div className="row">
        <label className="grow">
          URL
          <input name="url" inputMode="url" placeholder="https://grafana.internal/d/…" autoFocus autoComplete="off" />
        </label>
        <label className="grow">
          Label
          <input name="label" placeholder="what it shows" autoComplete="off" />
        </label>
        <button type="submit">Add link</button>
        <button type="button" className="quiet" onClick={onDone}>
          Cancel
        </button>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
