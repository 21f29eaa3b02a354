/**
 * Corrections without losing history (#16): deleting an entry or a hypothesis, renaming a
 * hypothesis, and the list of deleted items that offers to restore them. A deletion is a tombstone in
 * the document (shared/schema/doc.ts), so the history, the replay and an "as of" export keep the
 * item; each change is one undoable step. Who deleted an entry comes from the server's history.
 */
import { useState } from 'react';
import type * as Y from 'yjs';
import { Limits } from '../../../shared/protocol';
import type { EntryAuthorship } from '../../../shared/model';
import { deleteEntry, deleteHypothesis, renameHypothesis, restoreEntry, restoreHypothesis, type Entry, type Hypothesis } from '../../../shared/schema/doc';
import { formatUtc } from '../time';
import { useUndoable } from './UndoBar';

const named = (text: string) => `“${text || '(untitled)'}”`;

export function DeleteEntryButton({ doc, entry }: { doc: Y.Doc; entry: Entry }) {
  const undoable = useUndoable();
  return (
    <button
      type="button"
      className="quiet small danger"
      title="Delete this entry: it stays in the history and the replay, and Undo or “Deleted” brings it back"
      onClick={(event) => {
        event.stopPropagation();
        undoable(`Deleted entry ${named(entry.title)}`, () => deleteEntry(doc, entry.id));
      }}
    >
      Delete
    </button>
  );
}

/** Rename and Delete for one hypothesis in "What we know". */
export function HypothesisActions({ doc, hypothesis }: { doc: Y.Doc; hypothesis: Hypothesis }) {
  const undoable = useUndoable();
  const [renaming, setRenaming] = useState(false);
  const [problem, setProblem] = useState<string>();
  if (renaming) {
    return (
      <form
        className="rename-hypothesis row"
        aria-label={`Rename ${named(hypothesis.statement)}`}
        onKeyDown={(e) => e.key === 'Escape' && setRenaming(false)}
        onSubmit={(event) => {
          event.preventDefault();
          const statement = String(new FormData(event.currentTarget).get('statement') ?? '').trim();
          if (!statement) return setProblem('Say what you suspect.');
          if (statement.length > Limits.maxTitleChars) return setProblem(`The hypothesis is ${statement.length} characters; the limit is ${Limits.maxTitleChars}.`);
          if (statement !== hypothesis.statement) undoable(`Renamed ${named(hypothesis.statement)}`, () => renameHypothesis(doc, hypothesis.id, statement));
          setRenaming(false);
        }}
      >
        <label className="grow">
          New wording
          <input name="statement" defaultValue={hypothesis.statement} autoFocus autoComplete="off" />
        </label>
        <button type="submit">Rename</button>
        <button type="button" className="quiet" onClick={() => setRenaming(false)}>
          Cancel
        </button>
        {problem && (
          <p className="error" role="alert">
            {problem}
          </p>
        )}
      </form>
    );
  }
  return (
    <span className="hypothesis-actions">
      <button type="button" className="quiet small" aria-label={`Rename ${named(hypothesis.statement)}`} onClick={() => setRenaming(true)}>
        Rename
      </button>
      <button
        type="button"
        className="quiet small danger"
        aria-label={`Delete ${named(hypothesis.statement)}`}
        onClick={() => undoable(`Deleted hypothesis ${named(hypothesis.statement)}`, () => deleteHypothesis(doc, hypothesis.id))}
      >
        Delete
      </button>
    </span>
  );
}

interface DeletedProps {
  doc: Y.Doc;
  entries: Entry[];
  hypotheses: Hypothesis[];
  authors: ReadonlyMap<string, EntryAuthorship>;
  canWrite: boolean;
}

/** "Deleted (n)": what was deleted, by whom and when (for entries, from the history), with Restore. */
export function DeletedItems({ doc, entries, hypotheses, authors, canWrite }: DeletedProps) {
  const undoable = useUndoable();
  const count = entries.length + hypotheses.length;
  if (count === 0) return null;
  return (
    <details className="card deleted-items">
      <summary>Deleted ({count})</summary>
      <p className="hint">Still in the history, the replay and an “as of” export; left out of the log, search and the current export.</p>
      <ul>
        {entries.map((entry) => {
          const who = authors.get(entry.id);
          return (
            <li key={entry.id} aria-label={`Deleted entry ${named(entry.title)}`}>
              <span className={`badge kind-${entry.kind}`}>{entry.kind}</span> {entry.title || '(untitled)'}
              {who?.deletedBy && (
                <span className="hint">
                  {' '}
                  — deleted by {who.deletedBy.name}
                  {who.deletedAt && <> at <time dateTime={who.deletedAt}>{formatUtc(who.deletedAt)}</time></>}
                </span>
              )}
              {canWrite && (
                <button type="button" className="quiet small" onClick={() => undoable(`Restored entry ${named(entry.title)}`, () => restoreEntry(doc, entry.id))}>
                  Restore
                </button>
              )}
            </li>
          );
        })}
        {hypotheses.map((h) => (
          <li key={h.id} aria-label={`Deleted hypothesis ${named(h.statement)}`}>
            <span className="badge">hypothesis</span> {h.statement}
            {canWrite && (
              <button type="button" className="quiet small" onClick={() => undoable(`Restored hypothesis ${named(h.statement)}`, () => restoreHypothesis(doc, h.id))}>
                Restore
              </button>
            )}
          </li>
        ))}
      </ul>
    </details>
  );
}
