import type { User } from '../../../shared/model';
import { AlertInbox } from '../components/AlertInbox';
import { IncidentBadges } from '../components/IncidentBadges';
import { NewIncidentForm } from '../components/NewIncidentForm';
import { useLiveIncidents } from '../live-incidents';
import { Link } from '../router';
import { formatUtc } from '../time';

export function IncidentListPage({ user }: { user: User }) {
  const { incidents, error, put } = useLiveIncidents();
  return (
    <>
      {user.role !== 'viewer' && <NewIncidentForm onCreated={put} />}
      <AlertInbox canDeclare={user.role !== 'viewer'} />
      <section aria-labelledby="incidents-heading">
        <h1 id="incidents-heading">Incidents</h1>
        {error && <p className="error" role="alert">{error}</p>}
        {incidents.length === 0 && !error && <p className="hint">No incidents yet.</p>}
        <ul className="incident-list">
          {incidents.map((incident) => (
            <li key={incident.id}>
              <Link to={`/incidents/${encodeURIComponent(incident.id)}`} className="incident-title">
                {incident.title}
              </Link>
              <span className="incident-facts">
                <IncidentBadges severity={incident.severity} status={incident.status} />
                <time dateTime={incident.createdAt}>{formatUtc(incident.createdAt)}</time>
              </span>
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}
