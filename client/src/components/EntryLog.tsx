/**
 * The log: every entry in the order it was run, live. Only the entries near the screen are in the
 * page (VirtualList), so a log of thousands opens at once; the search box finds any of them.
 * The editor (CodeMirror, half of the app's code) loads after the log is on screen.
 */
import { lazy, Suspense, useCallback, type Ref } from 'react';
import type { Awareness } from 'y-protocols/awareness';
import type * as Y from 'yjs';
import type { EntryAuthorship } from '../../../shared/model';
import type { Entry, Hypothesis } from '../../../shared/schema/doc';
import type { Person } from '../collab/presence';
import { focusWhenRendered } from '../search/linked-target';
import { EntryView } from './EntryView';
import { VirtualList, type VirtualListHandle } from './VirtualList';

interface Props {
  doc: Y.Doc;
  awareness: Awareness;
  entries: Entry[];
  authors: ReadonlyMap<string, EntryAuthorship>;
  editing: ReadonlyMap<string, Person[]>;
  unsaved: ReadonlySet<string>;
  hypotheses: Hypothesis[];
  canWrite: boolean;
  selectedId: string | undefined;
  editingId: string | undefined;
  onSelect: (id: string) => void;
  onEdit: (id: string | undefined) => void;
  handle: Ref<VirtualListHandle>;
  /** In a replay: the entries the step just played changed, with who and what. */
  changes?: ReadonlyMap<string, string>;
}

const keyOf = (entry: Entry) => entry.id;

const loadEditor = () => import('./EntryEditor');
const EntryEditor = lazy(() => loadEditor().then((m) => ({ default: m.EntryEditor })));

/** Fetches the editor's code ahead of need (and so into the offline cache). */
export function preloadEditor(): void {
  void loadEditor();
}

export function EntryLog(props: Props) {
  const { doc, awareness, entries, authors, editing, unsaved, hypotheses, canWrite, selectedId, editingId, onSelect, onEdit, handle, changes } = props;
  // Escape (or done) puts the focus back on the entry that was edited, where j/k/e carry on.
  const stopEditing = useCallback(() => {
    onEdit(undefined);
    if (editingId) focusWhenRendered(`article[data-entry-id="${CSS.escape(editingId)}"]`);
  }, [onEdit, editingId]);
  const render = useCallback(
    (entry: Entry) =>
      entry.id === editingId ? (
        <Suspense fallback={<p className="hint">Opening the editor…</p>}>
          <EntryEditor doc={doc} awareness={awareness} entry={entry} onDone={stopEditing} />
        </Suspense>
      ) : (
        <EntryView
          entry={entry}
          authors={authors.get(entry.id)}
          editingBy={editing.get(entry.id)}
          unsaved={unsaved.has(`entry:${entry.id}`)}
          hypotheses={hypotheses}
          selected={entry.id === selectedId}
          canWrite={canWrite}
          doc={doc}
          onSelect={onSelect}
          onEdit={onEdit}
          change={changes?.get(entry.id)}
        />
      ),
    [doc, awareness, authors, editing, unsaved, hypotheses, canWrite, selectedId, editingId, onSelect, onEdit, stopEditing, changes],
  );
  return <VirtualList items={entries} keyOf={keyOf} render={render} estimate={140} handle={handle} />;
}
