/** The alerts an entry links to, as the alert stands now (title, firing or resolved, UTC times). */
import { useEffect } from 'react';
import type * as Y from 'yjs';
import type { Entry } from '../../../shared/schema/doc';
import { unique, unlinkAlert } from '../collab/entry-evidence';
import { useEvidence } from '../evidence/incident-evidence';
import { useStore } from '../store';
import { AlertStatus, AlertTimes, AlertTitle } from './AlertFacts';
import { useUndoable } from './UndoBar';

interface Props {
  doc: Y.Doc;
  entry: Entry;
  canWrite: boolean;
}

export function EntryAlerts({ doc, entry, canWrite }: Props) {
  const { alerts: book } = useEvidence();
  const known = useStore(book.byId);
  const undoable = useUndoable();
  const ids = unique(entry.alerts);
  useEffect(() => {
    for (const id of ids) book.want(id);
  });
  if (ids.length === 0) return null;
  return (
    <ul className="entry-alerts" aria-label="Linked alerts">
      {ids.map((id) => {
        const alert = known.get(id);
        return (
          <li key={id} className="alert-head">
            {alert ? (
              <>
                <AlertStatus alert={alert} />
                <AlertTitle alert={alert} />
                <AlertTimes alert={alert} />
              </>
            ) : (
              <span className="hint" title={`alert ${id}`}>an alert not loaded yet (offline?)</span>
            )}
            {canWrite && (
              <button type="button" className="quiet small unlink" aria-label={`Unlink ${alert?.title ?? id}`} onClick={() => undoable(`Unlinked alert “${alert?.title ?? id}”`, () => unlinkAlert(doc, entry.id, id))}>
                ×
              </button>
            )}
          </li>
        );
      })}
    </ul>
  );
}
