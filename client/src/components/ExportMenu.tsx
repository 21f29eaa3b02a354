/**
 * Export the incident for the postmortem: Markdown, a self-contained HTML report (prints to PDF),
 * JSON, or a zip with every attachment — of now, or as it was at a moment (UTC).
 */
import { useState } from 'react';

const FORMATS = [
  ['md', 'Markdown'],
  ['html', 'HTML report'],
  ['json', 'JSON'],
  ['zip', 'Zip with attachments'],
] as const;

export function ExportMenu({ incidentId }: { incidentId: string }) {
  const [asOf, setAsOf] = useState('');
  // "2026-03-04 06:30" or a full ISO time, read as UTC; empty means now.
  const at = asOf.trim() ? new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(asOf.trim()) ? asOf.trim() : `${asOf.trim().replace(' ', 'T')}Z`) : undefined;
  const valid = at === undefined || !Number.isNaN(at.getTime());
  const href = (format: string) =>
    `/api/incidents/${encodeURIComponent(incidentId)}/export?format=${format}${at && valid ? `&at=${encodeURIComponent(at.toISOString())}` : ''}`;
  return (
    <details className="export-menu">
      <summary className="quiet small">Export</summary>
      <div className="export-panel" role="menu">
        <label>
          As of (UTC, empty = now)
          <input value={asOf} onChange={(e) => setAsOf(e.target.value)} placeholder="2026-03-04 06:30" aria-invalid={!valid} />
        </label>
        {!valid && <span className="error">Not a time: use e.g. 2026-03-04 06:30</span>}
        {FORMATS.map(([format, label]) => (
          <a key={format} role="menuitem" href={valid ? href(format) : undefined} download>
            {label}
          </a>
        ))}
      </div>
    </details>
  );
}
