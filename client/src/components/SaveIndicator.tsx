import type { SaveState } from '../collab/save-state';

const labels: Record<SaveState, string> = { saved: 'Saved', saving: 'Saving…', offline: 'Offline' };

export function SaveIndicator({ state }: { state: SaveState }) {
  return (
    <span className={`save-indicator save-${state}`} role="status" data-testid="save-state">
      {labels[state]}
    </span>
  );
}
