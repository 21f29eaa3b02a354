/**
 * Undo and redo of one's own recent changes (#16): a Yjs UndoManager over the incident's entries,
 * hypotheses and meta that tracks only this page's own transactions (origin null, the default). So
 * what others wrote, and what the socket or IndexedDB applied, is never undone by this user; and
 * the text editors' own undo (CodeMirror, origin y-codemirror) stays theirs.
 *
 * Each step may carry a label ("Deleted “ping db01”") for the Undo button and the notice after it.
 */
import * as Y from 'yjs';
import { entriesOf, hypothesesOf, metaOf } from '../../../shared/schema/doc';
import { Store } from '../store';

export interface UndoState {
  canUndo: boolean;
  canRedo: boolean;
  /** What Undo would take back, e.g. "Deleted “ping db01”". */
  undoLabel?: string;
  redoLabel?: string;
  /** The last thing done, undone or redone, with a counter so the same words twice still show. */
  notice?: { text: string; n: number; undoable: boolean };
}

type StackEvent = { stackItem: { meta: Map<string, unknown> }; origin: unknown; type: 'undo' | 'redo' };

const LABEL = 'label';
const FALLBACK = 'your last change';

export class Undo {
  readonly state = new Store<UndoState>({ canUndo: false, canRedo: false });
  private readonly manager: Y.UndoManager;
  private pending: string | undefined;
  private notices = 0;

  constructor(doc: Y.Doc) {
    // Each transaction a step of its own: a deletion right after an edit is undone alone.
    this.manager = new Y.UndoManager([entriesOf(doc), hypothesesOf(doc), metaOf(doc)], { captureTimeout: 0 });
    this.manager.on('stack-item-added', this.onAdded);
    this.manager.on('stack-item-popped', this.refresh);
    this.manager.on('stack-cleared', this.refresh);
  }

  /** Does `change` (one transaction of this page's) as an undoable step named `label`. */
  did(label: string, change: () => void): void {
    this.pending = label;
    try {
      change();
    } finally {
      this.pending = undefined;
    }
    this.announce(label, true);
  }

  undo(): void {
    const label = this.labelOf(this.manager.undoStack);
    if (this.manager.undo()) this.announce(`Undone: ${label}`, false);
  }

  redo(): void {
    const label = this.labelOf(this.manager.redoStack);
    if (this.manager.redo()) this.announce(`Redone: ${label}`, false);
  }

  destroy(): void {
    this.manager.off('stack-item-added', this.onAdded);
    this.manager.destroy();
  }

  private labelOf(stack: Array<{ meta: Map<string, unknown> }>): string {
    const label = stack[stack.length - 1]?.meta.get(LABEL);
    return typeof label === 'string' ? label : FALLBACK;
  }

  private onAdded = (event: StackEvent): void => {
    // Undoing one step adds it to the other stack: it keeps its name.
    const from = event.origin === this.manager ? this.manager.currStackItem?.meta.get(LABEL) : this.pending;
    if (typeof from === 'string') event.stackItem.meta.set(LABEL, from);
    this.refresh();
  };

  private announce(text: string, undoable: boolean): void {
    this.state.set({ ...this.state.get(), notice: { text, n: ++this.notices, undoable } });
  }

  private refresh = (): void => {
    const { undoStack, redoStack } = this.manager;
    this.state.set({
      ...this.state.get(),
      canUndo: undoStack.length > 0,
      canRedo: redoStack.length > 0,
      undoLabel: undoStack.length > 0 ? this.labelOf(undoStack) : undefined,
      redoLabel: redoStack.length > 0 ? this.labelOf(redoStack) : undefined,
    });
  };
}
