/**
 * Single-key shortcuts for the common actions, as in mail and issue trackers: they work when no
 * text field has the focus, so typing is never taken over. `?` lists them.
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
  { keys: 'Esc', does: 'Stop editing; leave a field' },
  { keys: '/', does: 'Search this incident (Esc to leave)' },
  { keys: 'h', does: 'Add a hypothesis' },
  { keys: 'm', does: 'Set a milestone (impact started, detected, mitigated…)' },
  { keys: 'G', does: 'Jump to the latest entry' },
  { keys: 't', does: 'Switch between dark and light' },
  { keys: '?', does: 'Show these shortcuts' },
];

const typingIn = (target: EventTarget | null) =>
  target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));

/** Calls `handlers[event.key]` for a plain key press outside text fields. */
export function useShortcuts(handlers: Record<string, () => void>): void {
  const current = useRef(handlers);
  current.current = handlers;
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || typingIn(event.target)) return;
      const handler = current.current[event.key];
      if (!handler) return;
      event.preventDefault();
      handler();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
