/**
 * Alerts on no incident yet, live: what monitoring says that nobody is looking at. A responder
 * declares an incident from one (the alert attached) and lands on it.
 */
import { useEffect, useState } from 'react';
import type { Alert } from '../../../shared/alerts';
import { ServerEvent } from '../../../shared/events';
import type { Incident } from '../../../shared/model';
import { api } from '../api';
import { connectAppEvents } from '../app-events';
import { byUrgency } from '../evidence/alert-book';
import { navigate } from '../router';
import { AlertCard } from './AlertFacts';

function useInbox() {
  const [inbox, setInbox] = useState<Alert[]>([]);
  const [error, setError] = useState<string>();
  useEffect(() => {
    const events = connectAppEvents();
    events.on('connect', () => {
      api<Alert[]>('GET', '/api/alerts?inbox=true').then(
        (list) => {
          setInbox(list);
          setError(undefined);
        },
        (err: Error) => setError(err.message),
      );
    });
    events.on(ServerEvent.alertChanged, (alert) =>
      setInbox((prev) => [...prev.filter((a) => a.id !== alert.id), ...(alert.incidents.length === 0 ? [alert] : [])]),
    );
    return () => {
      events.disconnect();
    };
  }, []);
  return { inbox: [...inbox].sort(byUrgency), error, setError };
}

export function AlertInbox({ canDeclare }: { canDeclare: boolean }) {
  const { inbox, error, setError } = useInbox();
  const declare = (alert: Alert) =>
    api<Incident>('POST', `/api/alerts/${encodeURIComponent(alert.id)}/declare`, {}).then(
      (incident) => navigate(`/incidents/${encodeURIComponent(incident.id)}`),
      (err: Error) => setError(err.message),
    );
  if (inbox.length === 0 && !error) return null;
  return (
    <section className="card alert-inbox" aria-label="Inbox">
      <h2>Inbox: alerts on no incident</h2>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <ul className="alert-list">
        {inbox.map((alert) => (
          <AlertCard
            key={alert.id}
            alert={alert}
            action={
              canDeclare && (
                <button type="button" className="quiet small" onClick={() => declare(alert)}>
                  Declare incident
                </button>
              )
            }
          />
        ))}
      </ul>
    </section>
  );
}
