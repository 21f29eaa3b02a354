/**
 * The incident's alerts, live: firing ones first, each with since when, its labels and a link to
 * its source graph. Responders detach an alert that is not about this incident, and attach one
 * waiting in the inbox.
 */
import { useMemo, useState } from 'react';
import type { Alert } from '../../../shared/alerts';
import { api } from '../api';
import { byUrgency } from '../evidence/alert-book';
import { useEvidence } from '../evidence/incident-evidence';
import { useStore } from '../store';
import { AlertCard, AlertStatus, AlertTitle } from './AlertFacts';

interface Props {
  /** The incident's label matchers, e.g. `site=ny`: alerts matching all of them attach as they arrive. */
  matchers: readonly string[];
  canWrite: boolean;
}

export function AlertsPanel({ matchers, canWrite }: Props) {
  const { alerts: book, incidentId } = useEvidence();
  const byId = useStore(book.byId);
  const alerts = useMemo(() => [...byId.values()].filter((a) => a.incidents.includes(incidentId)).sort(byUrgency), [byId, incidentId]);
  const firing = alerts.filter((a) => a.status === 'firing').length;
  const [error, setError] = useState<string>();
  const act = (action: Promise<void>) => action.then(() => setError(undefined), (err: Error) => setError(err.message));

  return (
    <section className="card alerts-panel" aria-label="Alerts">
      <h2>
        Alerts <span className={firing > 0 ? 'badge alert-firing' : 'badge'}>{firing} firing</span>
      </h2>
      {alerts.length === 0 && (
        <p className="hint">
          No alerts on this incident.{' '}
          {matchers.length > 0 ? `Alerts matching ${matchers.join(', ')} attach as they arrive.` : 'Attach one from the inbox.'}
        </p>
      )}
      <ul className="alert-list">
        {alerts.map((alert) => (
          <AlertCard
            key={alert.id}
            alert={alert}
            action={
              canWrite && (
                <button type="button" className="quiet small" onClick={() => act(book.detach(alert.id))} title="Not about this incident">
                  Detach
                </button>
              )
            }
          />
        ))}
      </ul>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {canWrite && <InboxPicker onAttach={(id) => act(book.attach(id))} />}
    </section>
  );
}

/** The alerts on no incident, to attach one by hand. */
function InboxPicker({ onAttach }: { onAttach: (alertId: string) => void }) {
  const [inbox, setInbox] = useState<Alert[]>();
  const [error, setError] = useState<string>();
  const open = () => api<Alert[]>('GET', '/api/alerts?inbox=true').then(setInbox, (err: Error) => setError(err.message));
  if (!inbox) {
    return (
      <div className="row">
        <button type="button" className="quiet small" onClick={open}>
          Attach from the inbox…
        </button>
        {error && <span className="error-text">{error}</span>}
      </div>
    );
  }
  return (
    <div className="inbox-picker" role="group" aria-label="Inbox">
      {inbox.length === 0 && <p className="hint">The inbox is empty: every alert is on an incident.</p>}
      <ul className="alert-list">
        {inbox.map((alert) => (
          <li key={alert.id} className="alert-head">
            <AlertStatus alert={alert} />
            <AlertTitle alert={alert} />
            <button
              type="button"
              className="quiet small"
              onClick={() => {
                onAttach(alert.id);
                setInbox(inbox.filter((a) => a.id !== alert.id));
              }}
            >
              Attach
            </button>
          </li>
        ))}
      </ul>
      <button type="button" className="quiet small" onClick={() => setInbox(undefined)}>
        Done
      </button>
    </div>
  );
}
