/**
 * Links into an incident (#19): `/incidents/<id>#entry-<entryId>` or `#hypothesis-<id>`, as search
 * results and "seen before" give them. The page goes there once the entry has arrived.
 */
export interface LinkedTarget {
  entryId?: string;
  hypothesisId?: string;
}

export const entryLink = (incidentId: string, entryId?: string, hypothesisId?: string): string =>
  `/incidents/${encodeURIComponent(incidentId)}${entryId ? `#entry-${encodeURIComponent(entryId)}` : hypothesisId ? `#hypothesis-${encodeURIComponent(hypothesisId)}` : ''}`;

export function linkedTarget(): LinkedTarget | undefined {
  const match = /^#(entry|hypothesis)-(.+)$/.exec(window.location.hash);
  if (!match) return undefined;
  let id: string;
  try {
    id = decodeURIComponent(match[2]!);
  } catch {
    return undefined;
  }
  return match[1] === 'entry' ? { entryId: id } : { hypothesisId: id };
}

/** How long to wait for a virtualized row or a panel to render before giving up (frames, ~1 s). */
const FRAMES = 60;

/**
 * Focuses the element once it is in the page (a row of the virtual list renders a frame or two after
 * it is scrolled to); scrolls it into view too when `block` is given.
 */
export function focusWhenRendered(selector: string, block?: ScrollLogicalPosition): void {
  let frames = 0;
  const attempt = () => {
    const element = document.querySelector<HTMLElement>(selector);
    if (!element) {
      if (++frames < FRAMES) requestAnimationFrame(attempt);
      return;
    }
    if (block) element.scrollIntoView({ block });
    element.focus({ preventScroll: true });
  };
  requestAnimationFrame(attempt);
}
