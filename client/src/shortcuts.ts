/**
 * Single-key shortcuts for the common actions, as in mail and issue trackers: they work when no
 * text field or other control has the focus, so typing is never taken over. `?` lists them.
 */
import { useEffect, useRef } from 'react';

export interface Shortcut {
  keys: string;
  does: string;
}

export const SHORTCUTS: Shortcut[] = [
  { keys: 'n', does: 'Log a new entry' },
  { keys: 'Ctrl+Enter', does: 'Add the entry (in the composer); finish editing' },
  { keys: 'j / k', does: 'Next / previous entry' },
  { keys: 'e', does: 'Edit the selected entry' },
  { keys: 'Esc', does: 'Stop editing (back to the entry); leave a field or button' },
  { keys: 'Ctrl+Z / Ctrl+Shift+Z', does: 'Undo / redo your own last change (outside a text field, which has its own)' },
  { keys: '/', does: 'Search this incident (Esc to leave)' },
  { keys: 'h', does: 'Add a hypothesis' },
  { keys: 'm', does: 'Set a milestone (impact started, detected, mitigated…)' },
  { keys: 'G', does: 'Jump to the latest entry' },
  { keys: 's, then 1–4', does: 'Set the severity (s 1: sev1)' },
  { keys: 't', does: 'Switch between dark and light' },
  { keys: '?', does: 'Show these shortcuts' },
];

/**
 * Where a plain key belongs to what has the focus, not to a shortcut: a text field, an editor
 * (CodeMirror is contenteditable), and any control — a button, a link, a select, a checkbox. A key
 * typed while a button had the focus once ran `h` and a second click's worth of shortcuts (typing a
 * URL on a focused button created two hypotheses).
 */
const CONTROL = 'input, textarea, select, button, a[href], summary, [contenteditable=""], [contenteditable="true"], [role="button"], [role="link"], [role="menuitem"], [role="option"], [role="tab"], [role="checkbox"], [role="radio"], [role="switch"], [role="slider"], [role="combobox"], [role="textbox"], .cm-editor';

export const controlHasFocus = (target: EventTarget | null): boolean =>
  target instanceof HTMLElement && (target.isContentEditable || target.closest(CONTROL) !== null);

/**
 * Escape leaves whatever control has the focus (a field keeps what was typed), so the shortcuts work
 * again; not inside a dialog, where Escape closes the dialog.
 */
const leavable = (target: EventTarget | null): target is HTMLElement =>
  controlHasFocus(target) && !(target as HTMLElement).closest('dialog, [role="dialog"]');

/** Calls `handlers[event.key]` for a plain key press when no control has the focus. */
export function useShortcuts(handlers: Record<string, () => void>): void {
  const current = useRef(handlers);
  current.current = handlers;
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === 'Escape' && leavable(event.target)) {
        event.target.blur();
        return;
      }
      // (A held key repeats: j held walks down the log. Nothing a shortcut does creates anything.)
      if (controlHasFocus(event.target)) return;
      const handler = current.current[event.key];
      if (!handler) return;
      event.preventDefault();
      handler();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
