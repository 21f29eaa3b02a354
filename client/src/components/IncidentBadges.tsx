import type { IncidentStatus, Severity } from '../../../shared/api';

export function IncidentBadges({ severity, status }: { severity: Severity; status: IncidentStatus }) {
  return (
    <>
      <span className={`badge severity-${severity}`}>{severity}</span>
      <span className={`badge status-${status}`}>{status}</span>
    </>
  );
}
