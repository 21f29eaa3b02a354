import type { IncidentStatus, Severity } from '../../../shared/model';

export function IncidentBadges({ severity, status }: { severity: Severity; status?: IncidentStatus }) {
  return (
    <>
      <span className={`badge severity-${severity}`}>{severity}</span>
      {status && <span className={`badge status-${status}`}>{status}</span>}
    </>
  );
}
