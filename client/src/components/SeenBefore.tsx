/**
 * Under the composer's fields: entries of other incidents like the test being typed, with what they
 * turned out to be ("2026-10-03, BGP flap ny-edge1 — concluded: carrier maintenance"). It takes no
 * focus and covers nothing; × or Esc in it hides it until the next entry. Links open in a new tab,
 * so what is being typed stays.
 */
import type { SimilarResult } from '../../../shared/search';
import { entryLink } from '../search/linked-target';
import { formatUtc } from '../time';
import { IncidentBadges } from './IncidentBadges';
import './SeenBefore.css';

interface Props {
  results: SimilarResult[];
  onDismiss: () => void;
}

/** A conclusion as one short line. */
const short = (text: string, max = 140) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, flat.lastIndexOf(' ', max) > max / 2 ? flat.lastIndexOf(' ', max) : max)} …` : flat;
};

export function SeenBefore({ results, onDismiss }: Props) {
  if (results.length === 0) return null;
  return (
    <section
      className="seen-before"
      aria-label="Seen before"
      aria-live="polite"
      onKeyDown={(e) => {
        if (e.key !== 'Escape') return;
        e.preventDefault();
        e.stopPropagation(); // the composer's Esc would leave the field too
        onDismiss();
      }}
    >
      <div className="seen-before-head">
        <h3>Seen before</h3>
        <button type="button" className="quiet small" aria-label="Dismiss “Seen before”" title="Dismiss (Esc)" onClick={onDismiss}>
          ×
        </button>
      </div>
      <ul>
        {results.map((r) => {
          const concluded = r.conclusion ? `concluded: ${short(r.conclusion)}` : r.incidentConclusion ? `incident concluded: ${short(r.incidentConclusion)}` : undefined;
          return (
            <li key={`${r.incidentId}:${r.entryId ?? r.hypothesisId ?? r.kind}`}>
              <a href={entryLink(r.incidentId, r.entryId, r.hypothesisId)} target="_blank" rel="noopener" className="seen-before-link">
                <time dateTime={r.at} title={formatUtc(r.at)}>
                  {r.at.slice(0, 10)}
                </time>
                , {r.title}
                {concluded && <span className="seen-before-conclusion"> — {concluded}</span>}
              </a>
              <div className="seen-before-facts">
                <span className="seen-before-incident">{r.incidentTitle}</span>
                <IncidentBadges severity={r.incidentSeverity} status={r.incidentStatus} />
                {r.why.length > 0 && <span className="seen-before-why">{r.why.join(' · ')}</span>}
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
