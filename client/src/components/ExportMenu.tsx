/**
 * Export the incident for the postmortem: Markdown, a self-contained HTML report, a PDF of that
 * report (the browser prints it: nothing to install on the server), JSON, or a zip with every
 * attachment — of now, or as it was at a moment (UTC, read like every other time field here).
 */
import { useState } from 'react';
import { apiGetRaw } from '../api';
import { parseRanAt, serverNowSync } from '../time';
import './ExportMenu.css';

const FORMATS = [
  ['md', 'Markdown'],
  ['html', 'HTML report'],
  ['json', 'JSON'],
  ['zip', 'Zip with attachments'],
] as const;

/**
 * Prints the HTML report to PDF with the browser's own print dialog: the report is loaded into a
 * hidden frame (sandboxed: it runs no script; its print stylesheet lays out the pages) and printed.
 */
async function printReport(href: string): Promise<void> {
  const html = await (await apiGetRaw(href)).text();
  // The last report printed stays loaded until the next (print() may return before the dialog is done with it).
  for (const old of document.querySelectorAll('iframe.print-frame')) old.remove();
  const frame = document.createElement('iframe');
  frame.setAttribute('sandbox', 'allow-same-origin allow-modals');
  frame.setAttribute('aria-hidden', 'true');
  frame.className = 'print-frame';
  frame.srcdoc = html;
  await new Promise<void>((resolve) => {
    frame.addEventListener('load', () => resolve(), { once: true });
    document.body.append(frame);
  });
  frame.contentWindow?.focus();
  frame.contentWindow?.print();
}

export function ExportMenu({ incidentId }: { incidentId: string }) {
  const [asOf, setAsOf] = useState('');
  const [printing, setPrinting] = useState(false);
  const [printError, setPrintError] = useState<string>();
  // Empty means now; else the same forms the composer and the replay take (06:30, 2026-03-04 06:30:10, -15m).
  const parsed = asOf.trim() ? parseRanAt(asOf, serverNowSync()) : undefined;
  const problem = typeof parsed === 'string' ? parsed : undefined;
  const at = parsed instanceof Date ? parsed : undefined;
  const href = (format: string) => `/api/incidents/${encodeURIComponent(incidentId)}/export?format=${format}${at ? `&at=${encodeURIComponent(at.toISOString())}` : ''}`;
  const pdf = () => {
    if (printing || problem) return;
    setPrinting(true);
    setPrintError(undefined);
    printReport(href('html'))
      .catch((err: Error) => setPrintError(`No PDF: ${err.message}`))
      .finally(() => setPrinting(false));
  };
  return (
    <details className="export-menu">
      <summary className="quiet small">Export</summary>
      <div className="export-panel" role="menu">
        <label>
          As of (UTC, empty = now)
          <input value={asOf} onChange={(e) => setAsOf(e.target.value)} placeholder="17:21:10 or 2026-03-04 06:30" aria-invalid={problem !== undefined} />
        </label>
        {problem && <span className="error">{problem}</span>}
        {at && <span className="hint">as of {at.toISOString().slice(0, 19).replace('T', ' ')} UTC</span>}
        {FORMATS.map(([format, label]) => (
          <a key={format} role="menuitem" href={problem ? undefined : href(format)} download>
            {label}
          </a>
        ))}
        <button type="button" role="menuitem" className="quiet small" onClick={pdf} disabled={printing || problem !== undefined} title="The HTML report, printed by this browser: choose “Save as PDF”">
          {printing ? 'Preparing PDF…' : 'PDF (print)'}
        </button>
        {printError && <span className="error" role="alert">{printError}</span>}
      </div>
    </details>
  );
}
