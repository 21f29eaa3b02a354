/**
 * The alerts a test run at `at` probably relates to, best first, each with the server's reason
 * ("fired 2 min before this test, same site"), to link with one click. Asked again when the
 * incident's alerts change, so one that just arrived is offered.
 */
import { useEffect, useState } from 'react';
import type { Alert, AlertSuggestion } from '../../../shared/alerts';
import { api } from '../api';
import { useEvidence } from '../evidence/incident-evidence';
import { useStore } from '../store';
import { AlertStatus, AlertTitle } from './AlertFacts';

interface Props {
  /** When the test ran, ISO UTC. */
  at: string | undefined;
  linked: readonly string[];
  onToggle: (alert: Alert, linked: boolean) => void;
}

const SHOWN = 5;
/** Typing a time asks once, when the typing stops. */
const SETTLE_MS = 250;

export function AlertSuggestions({ at, linked, onToggle }: Props) {
  const { alerts: book, incidentId } = useEvidence();
  const known = useStore(book.byId);
  const [suggestions, setSuggestions] = useState<AlertSuggestion[]>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    if (!at) return;
    let current = true;
    const path = `/api/incidents/${encodeURIComponent(incidentId)}/alert-suggestions?at=${encodeURIComponent(at)}`;
    const timer = setTimeout(() => {
      api<AlertSuggestion[]>('GET', path).then(
        (answer) => {
          if (!current) return;
          setSuggestions(answer);
          setError(undefined);
        },
        (err: Error) => current && setError(err.message),
      );
    }, SETTLE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [at, incidentId, known]);

  const toggle = (alert: Alert, isLinked: boolean) => {
    if (!book.byId.get().has(alert.id)) book.put(alert); // shown on the entry at once, without a fetch
    onToggle(alert, isLinked);
  };

  if (error) return <p className="error-text">Suggestions: {error}</p>;
  if (!suggestions) return <p className="hint">Looking for alerts near this time…</p>;
  if (suggestions.length === 0) return <p className="hint">No alert fired near this time.</p>;
  return (
    <ul className="alert-suggestions" aria-label="Suggested alerts">
      {suggestions.slice(0, SHOWN).map(({ alert, reason }) => {
        const isLinked = linked.includes(alert.id);
        return (
          <li key={alert.id} aria-label={alert.title}>
            <div className="alert-head">
              <AlertStatus alert={alert} />
              <AlertTitle alert={alert} />
              <button type="button" className="quiet small" aria-pressed={isLinked} onClick={() => toggle(alert, !isLinked)}>
                {isLinked ? 'Linked ✓' : 'Link'}
              </button>
            </div>
            <span className="reason">{reason}</span>
          </li>
        );
      })}
    </ul>
  );
}
