/** Whether what you wrote is safe: on the server's disk (Saved), on its way, or kept here while offline. */
import type { SaveState } from '../collab/save-state';

function label({ status, pending }: SaveState, keptInBrowser: boolean): string {
  if (status === 'saved') return 'Saved';
  if (status === 'saving') return 'Saving…';
  if (status === 'connecting') return 'Connecting…';
  if (pending === 0) return 'Offline — nothing unsaved';
  const changes = `${pending} change${pending === 1 ? '' : 's'}`;
  return keptInBrowser ? `Offline — ${changes} kept in this browser` : `Offline — ${changes} in this tab only`;
}

const explain: Record<SaveState['status'], string> = {
  saved: 'Everything you wrote is on the server’s disk.',
  saving: 'Your latest changes are on their way to the server.',
  connecting: 'Connecting to the server.',
  offline: 'No connection to the server. Keep logging: your changes wait in this browser and are sent when the connection is back.',
};

export function SaveIndicator({ state, keptInBrowser }: { state: SaveState; keptInBrowser: boolean }) {
  return (
    <span className={`save-indicator save-${state.status}`} role="status" data-testid="save-state" title={explain[state.status]}>
      {label(state, keptInBrowser)}
    </span>
  );
}
