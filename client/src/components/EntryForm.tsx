/** Adds an entry to the log; its time is now on the server's clock. */
import type * as Y from 'yjs';
import { createEntry, EntryKinds, type EntryKind } from '../../../shared/schema/doc';
import { serverNow } from '../time';
import { field, useSubmit } from './form';

const kindOf = (value: string): EntryKind => EntryKinds.find((kind) => kind === value) ?? 'note';

export function EntryForm({ doc }: { doc: Y.Doc }) {
  const { onSubmit, error, busy } = useSubmit(async (fields, form) => {
    const title = field(fields, 'title').trim();
    if (!title) throw new Error('Give the entry a title: what you checked or did.');
    createEntry(doc, {
      kind: kindOf(field(fields, 'kind')),
      title,
      ranAt: (await serverNow()).toISOString(),
      command: field(fields, 'command'),
      observations: field(fields, 'observations'),
      conclusion: field(fields, 'conclusion'),
    });
    form.reset();
  });
  return (
    <form className="card entry-form" onSubmit={onSubmit} aria-label="New entry">
      <h2>Add to the log</h2>
      <div className="row">
        <label>
          Kind
          <select name="kind" defaultValue="test">
            {EntryKinds.map((kind) => (
              <option key={kind}>{kind}</option>
            ))}
          </select>
        </label>
        <label className="grow">
          Title
          <input name="title" required placeholder="What you checked or did" />
        </label>
      </div>
      <label>
        Command
        <textarea name="command" rows={2} className="mono" spellCheck={false} />
      </label>
      <label>
        Observations
        <textarea name="observations" rows={3} />
      </label>
      <label>
        Conclusion
        <textarea name="conclusion" rows={2} />
      </label>
      {error && <p className="error" role="alert">{error}</p>}
      <button type="submit" disabled={busy}>
        Add entry
      </button>
    </form>
  );
}
