/**
 * One collaborative text field: CodeMirror bound to the entry's Y.Text with y-codemirror.next, so
 * everyone's keystrokes merge and each person's cursor shows with their (server-given) name.
 * Text beyond the limit is refused with a message, never cut: a paste that would pass it is not
 * applied at all. Remote changes are never refused (they are already in the document).
 */
import { useEffect, useRef } from 'react';
import { EditorState } from '@codemirror/state';
import { EditorView, keymap, placeholder as placeholderText } from '@codemirror/view';
import { defaultKeymap } from '@codemirror/commands';
import { markdown } from '@codemirror/lang-markdown';
import * as Y from 'yjs';
import type { Awareness } from 'y-protocols/awareness';
import { yCollab, ySyncAnnotation, yUndoManagerKeymap } from 'y-codemirror.next';

interface Props {
  text: Y.Text;
  awareness: Awareness;
  label: string;
  maxChars: number;
  /** Markdown gets list continuation on Enter; a command is plain. */
  prose: boolean;
  placeholder?: string;
  autoFocus?: boolean;
  onRefused: (message: string) => void;
  /** Ctrl/Cmd+Enter. */
  onDone: () => void;
}

export function CollabText({ text, awareness, label, maxChars, prose, placeholder, autoFocus, onRefused, onDone }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const callbacks = useRef({ onRefused, onDone });
  callbacks.current = { onRefused, onDone };

  useEffect(() => {
    const refuseOversized = EditorState.transactionFilter.of((tr) => {
      if (!tr.docChanged || tr.annotation(ySyncAnnotation) !== undefined) return tr;
      const length = tr.newDoc.length;
      if (length <= maxChars || length <= tr.startState.doc.length) return tr;
      callbacks.current.onRefused(
        `${label} would be ${length.toLocaleString('en')} characters; the limit is ${maxChars.toLocaleString('en')}. ` +
          'Nothing was added: trim it, or put the full output somewhere and link to it.',
      );
      return [];
    });
    const view = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: text.toString(),
        extensions: [
          keymap.of([{ key: 'Mod-Enter', run: () => (callbacks.current.onDone(), true) }, ...yUndoManagerKeymap, ...defaultKeymap]),
          prose ? markdown() : [],
          EditorView.lineWrapping,
          EditorView.contentAttributes.of({ 'aria-label': label, spellcheck: prose ? 'true' : 'false' }),
          placeholder ? placeholderText(placeholder) : [],
          refuseOversized,
          yCollab(text, awareness, { undoManager: new Y.UndoManager(text) }),
        ],
      }),
    });
    if (autoFocus) {
      // The caret at the end: editing an entry usually means adding to what is there.
      view.dispatch({ selection: { anchor: view.state.doc.length }, scrollIntoView: true });
      view.focus();
    }
    return () => view.destroy();
  }, [text, awareness, label, maxChars, prose, placeholder, autoFocus]);

  return <div ref={host} className={prose ? 'collab-text' : 'collab-text mono'} />;
}
