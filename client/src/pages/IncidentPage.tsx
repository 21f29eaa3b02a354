/** One incident: what it is, and its log of entries, live for everyone on it. */
import { useEffect, useState } from 'react';
import type { Incident, User } from '../../../shared/model';
import { api } from '../api';
import { useIncidentDoc } from '../collab/incident-doc';
import { EntryForm } from '../components/EntryForm';
import { EntryView } from '../components/EntryView';
import { IncidentBadges } from '../components/IncidentBadges';
import { SaveIndicator } from '../components/SaveIndicator';
import { formatUtc, serverClockOffset } from '../time';

export function IncidentPage({ incidentId, user }: { incidentId: string; user: User }) {
  const [incident, setIncident] = useState<Incident>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    void serverClockOffset(); // measured now, ready when the first entry is written
    api<Incident>('GET', `/api/incidents/${encodeURIComponent(incidentId)}`).then(setIncident, (err: Error) => setError(err.message));
  }, [incidentId]);

  if (error) return <p className="error" role="alert">{error}</p>;
  if (!incident) return <p className="notice">Loading…</p>;
  return <IncidentLog incident={incident} canWrite={user.role !== 'viewer'} />;
}

function IncidentLog({ incident, canWrite }: { incident: Incident; canWrite: boolean }) {
  const { doc, entries, meta, save, refused } = useIncidentDoc(incident.id);
  return (
    <article className="incident">
      <header className="incident-header">
        <h1>{meta.title ?? incident.title}</h1>
        <div className="incident-facts">
          <IncidentBadges severity={meta.severity ?? incident.severity} status={meta.status ?? incident.status} />
          <span>
            started <time dateTime={incident.createdAt}>{formatUtc(incident.createdAt)}</time>
          </span>
          <SaveIndicator state={save} />
        </div>
      </header>
      {refused && <p className="error" role="alert">Not connected: {refused}</p>}
      <section aria-label="Log">
        {entries.length === 0 && <p className="hint">Nothing logged yet.</p>}
        {entries.map((entry) => (
          <EntryView key={entry.id} entry={entry} />
        ))}
      </section>
      {canWrite && doc && <EntryForm doc={doc} />}
    </article>
  );
}
