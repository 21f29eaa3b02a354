/**
 * Undo and Redo of one's own recent changes (#16), as buttons and as Ctrl+Z / Ctrl+Shift+Z (or
 * Ctrl+Y), and the notice after a removal ("Deleted “ping db01” · Undo"). The keys act only when the
 * focus is not in a text field: an editor has its own undo for what is typed in it.
 */
import { createContext, use, useEffect, useState } from 'react';
import type { Undo } from '../collab/undo';
import { useStore } from '../store';
import './Corrections.css';

export const UndoContext = createContext<Undo | undefined>(undefined);

/** Does `change` as an undoable step named `label` when the page has undo (the live log), else just does it. */
export function useUndoable(): (label: string, change: () => void) => void {
  const undo = use(UndoContext);
  return (label, change) => (undo ? undo.did(label, change) : change());
}

const typingIn = (target: EventTarget | null) =>
  target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));

/** How long the notice after a change stays. */
const NOTICE_MS = 10_000;

export function UndoBar({ undo, enabled }: { undo: Undo; enabled: boolean }) {
  const state = useStore(undo.state);
  const [shown, setShown] = useState<number>();

  useEffect(() => {
    if (!enabled) return;
    const onKey = (event: KeyboardEvent) => {
      if (!(event.ctrlKey || event.metaKey) || event.altKey || event.defaultPrevented || typingIn(event.target)) return;
      const key = event.key.toLowerCase();
      if (key === 'z' && !event.shiftKey) undo.undo();
      else if ((key === 'z' && event.shiftKey) || (key === 'y' && !event.shiftKey)) undo.redo();
      else return;
      event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [undo, enabled]);

  const notice = state.notice;
  useEffect(() => {
    if (!notice) return;
    setShown(notice.n);
    const timer = setTimeout(() => setShown(undefined), NOTICE_MS);
    return () => clearTimeout(timer);
  }, [notice]);

  return (
    <span className="undo-bar">
      <button type="button" className="quiet small" disabled={!state.canUndo} onClick={() => undo.undo()} title={state.undoLabel ? `Undo: ${state.undoLabel} (Ctrl+Z)` : 'Nothing of yours to undo'}>
        Undo
      </button>
      <button type="button" className="quiet small" disabled={!state.canRedo} onClick={() => undo.redo()} title={state.redoLabel ? `Redo: ${state.redoLabel} (Ctrl+Shift+Z)` : 'Nothing to redo'}>
        Redo
      </button>
      <span className="undo-notice" role="status">
        {notice && shown === notice.n && (
          <>
            {notice.text}
            {notice.undoable && state.canUndo && (
              <>
                {' · '}
                <button type="button" className="link" onClick={() => undo.undo()}>
                  Undo
                </button>
              </>
            )}
          </>
        )}
      </span>
    </span>
  );
}
