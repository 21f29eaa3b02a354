/**
 * Editing an entry together: its texts are collaborative (everyone's typing merges, cursors show
 * who is where); its kind, title and run time are set as a whole when a field is left. While it is
 * open, everyone else sees who is editing this entry.
 */
import { useEffect, useState, type KeyboardEvent } from 'react';
import type { Awareness } from 'y-protocols/awareness';
import type * as Y from 'yjs';
import { Limits } from '../../../shared/protocol';
import { entryText, updateEntry, type Entry } from '../../../shared/schema/doc';
import { setEditing } from '../collab/presence';
import { formatUtc, serverNowSync } from '../time';
import { CollabText } from './CollabText';
import { kindOf, KindSelect, ranAtOrProblem, titleProblem } from './EntryFields';

interface Props {
  doc: Y.Doc;
  awareness: Awareness;
  entry: Entry;
  onDone: () => void;
}

const TEXTS = [
  { field: 'command', label: 'Command', prose: false, placeholder: 'How to repeat it' },
  { field: 'observations', label: 'Observations', prose: true, placeholder: 'What it showed (Markdown)' },
  { field: 'conclusion', label: 'Conclusion', prose: true, placeholder: 'What it means for the problem' },
] as const;

export function EntryEditor({ doc, awareness, entry, onDone }: Props) {
  const [error, setError] = useState<string>();
  // A field being typed in keeps its draft; the others follow the document live.
  const [draft, setDraft] = useState<{ title?: string; ranAt?: string }>({});

  useEffect(() => {
    setEditing(awareness, entry.id);
    return () => setEditing(awareness, null);
  }, [awareness, entry.id]);

  /** Writes what is typed in a plain field; false (with a message) when it cannot be taken. */
  const commitTitle = (): boolean => {
    if (draft.title === undefined) return true;
    const problem = titleProblem(draft.title);
    if (problem) return fail(problem);
    updateEntry(doc, entry.id, { title: draft.title.trim() });
    setDraft(({ title: _, ...rest }) => rest);
    return true;
  };
  const commitRanAt = (): boolean => {
    if (draft.ranAt === undefined) return true;
    const ranAt = ranAtOrProblem(draft.ranAt, serverNowSync());
    if (typeof ranAt === 'string') return fail(ranAt);
    updateEntry(doc, entry.id, { ranAt: ranAt.toISOString() });
    setDraft(({ ranAt: _, ...rest }) => rest);
    return true;
  };
  const fail = (message: string) => {
    setError(message);
    return false;
  };
  const finish = () => {
    if (commitTitle() && commitRanAt()) onDone();
  };
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'Enter' && event.target instanceof HTMLInputElement) event.target.blur();
    if (event.key === 'Escape' && !event.defaultPrevented) finish();
  };

  return (
    <div className="entry-editor" onKeyDown={onKeyDown} role="group" aria-label={`Editing ${entry.title}`}>
      <div className="row">
        <KindSelect value={entry.kind} onChange={(e) => updateEntry(doc, entry.id, { kind: kindOf(e.target.value) })} />
        <label className="grow">
          Title
          <input
            value={draft.title ?? entry.title}
            onChange={(e) => setDraft({ ...draft, title: e.target.value })}
            onBlur={() => commitTitle() && setError(undefined)}
          />
        </label>
        <label className="ran-at-field">
          Ran at (UTC)
          <input
            className="mono"
            value={draft.ranAt ?? formatUtc(entry.ranAt)}
            onChange={(e) => setDraft({ ...draft, ranAt: e.target.value })}
            onBlur={() => commitRanAt() && setError(undefined)}
          />
        </label>
      </div>
      {TEXTS.map(({ field, label, prose, placeholder }, i) => {
        const text = entryText(doc, entry.id, field);
        return (
          <div key={field} className="field">
            <span className="field-label">{label}</span>
            {text ? (
              <CollabText
                text={text}
                awareness={awareness}
                label={label}
                maxChars={Limits.maxFieldChars}
                prose={prose}
                placeholder={placeholder}
                autoFocus={i === 1}
                onRefused={setError}
                onDone={finish}
              />
            ) : (
              <p className="hint">This entry has no {label.toLowerCase()} field to edit.</p>
            )}
          </div>
        );
      })}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <button type="button" onClick={finish}>
        Done
      </button>
    </div>
  );
}
