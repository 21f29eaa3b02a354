/**
 * The incident page's search box (#19): `/` to get here, type, ↑↓ to choose, Enter to go to the
 * entry, Esc to clear and go back where you were. Searches this browser's copy of the document
 * (search/incident-search.ts); results are marked where they matched.
 */
import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent, type Ref } from 'react';
import { Link } from '../router';
import { searchIncident, type IncidentSearchSources, type LocalAnswer, type LocalResult } from '../search/incident-search';
import { formatLocal, formatUtc } from '../time';
import { Highlighted } from './Highlighted';
import './IncidentSearch.css';

/** Typing is searched this long after the last key: a 5,000-entry incident is not scanned per key. */
const DEBOUNCE_MS = 100;
/** Where the log has the side column beside it and the toolbar near the top (style.css). */
const WIDE = '(min-width: 60rem)';

const NOTHING: LocalAnswer = { results: [], total: 0, notes: [] };

interface Props {
  sources: IncidentSearchSources;
  inputRef: Ref<HTMLInputElement>;
  /** Go to the result: its entry, hypothesis or alert. */
  onOpen: (result: LocalResult) => void;
}

export function IncidentSearch({ sources, inputRef, onOpen }: Props) {
  const [text, setText] = useState('');
  const [query, setQuery] = useState('');
  const [open, setOpen] = useState(false);
  const [cursor, setCursor] = useState({ query: '', index: 0 });
  /** Where the focus was before the box took it: Esc gives it back. */
  const returnTo = useRef<HTMLElement | null>(null);
  const id = useId();

  useEffect(() => {
    if (text.trim() === '') return setQuery('');
    const timer = setTimeout(() => setQuery(text), DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text]);

  const showing = open && text.trim() !== '';
  // Searched again as the document changes, but only while the results are on screen.
  const answer = useMemo(() => (showing ? searchIncident(query, sources) : NOTHING), [showing, query, sources]);
  const active = cursor.query === query ? Math.min(cursor.index, Math.max(0, answer.results.length - 1)) : 0;
  const optionId = (i: number) => `${id}-option-${i}`;

  useEffect(() => {
    if (showing) document.getElementById(`${id}-option-${active}`)?.scrollIntoView({ block: 'nearest' });
  }, [showing, active, id]);

  const choose = (result: LocalResult | undefined) => {
    if (!result) return;
    setOpen(false);
    onOpen(result);
  };

  const leave = (input: HTMLInputElement) => {
    setText('');
    setQuery('');
    setOpen(false);
    const back = returnTo.current;
    returnTo.current = null;
    if (back?.isConnected && back !== input) back.focus({ preventScroll: true });
    else input.blur();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    const move = (by: number) => {
      event.preventDefault();
      setOpen(true);
      setCursor({ query, index: Math.max(0, Math.min(answer.results.length - 1, active + by)) });
    };
    if (event.key === 'ArrowDown') move(1);
    else if (event.key === 'ArrowUp') move(-1);
    else if (event.key === 'Enter') {
      event.preventDefault();
      // Enter before the pause that searches: search now, and go to the best.
      choose(text === query ? answer.results[active] : searchIncident(text, sources, 1).results[0]);
    } else if (event.key === 'Escape') {
      event.preventDefault();
      leave(event.currentTarget);
    }
  };

  return (
    <div
      className="incident-search"
      onBlur={(e) => !e.currentTarget.contains(e.relatedTarget) && setOpen(false)}
    >
      <input
        ref={inputRef}
        type="search"
        role="combobox"
        aria-label="Search this incident"
        aria-expanded={showing}
        aria-controls={`${id}-results`}
        aria-autocomplete="list"
        aria-activedescendant={showing && answer.results.length > 0 ? optionId(active) : undefined}
        placeholder="Search this incident (/)"
        autoComplete="off"
        spellCheck={false}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          setOpen(true);
        }}
        onFocus={(e) => {
          if (e.relatedTarget instanceof HTMLElement) returnTo.current = e.relatedTarget;
          setOpen(true);
          // Where the log is below the side panels (a phone), room for the results under the box.
          if (!window.matchMedia(WIDE).matches) e.currentTarget.scrollIntoView({ block: 'start' });
        }}
        onKeyDown={onKeyDown}
      />
      {showing && (
        <div className="search-popover" id={`${id}-results`}>
          {answer.problem && (
            <p className="error-text search-problem" role="alert">
              {answer.problem}
            </p>
          )}
          {answer.notes.map((note) => (
            <p key={note} className="hint">
              {note}
            </p>
          ))}
          {answer.results.length > 0 && (
            <ul role="listbox" aria-label="Results in this incident" className="search-results">
              {answer.results.map((r, i) => (
                <li
                  key={r.key}
                  id={optionId(i)}
                  role="option"
                  aria-selected={i === active}
                  className={i === active ? 'search-result active' : 'search-result'}
                  onMouseDown={(e) => e.preventDefault()} // keeps the focus in the box until chosen
                  onMouseMove={() => i !== active && setCursor({ query, index: i })}
                  onClick={() => choose(r)}
                >
                  <div className="search-result-head">
                    <span className={`badge kind-${r.kind}`}>{r.kind}</span>
                    <span className="search-result-title">
                      <Highlighted text={r.title} spans={r.titleHighlights} />
                    </span>
                    {r.status && <span className={`badge search-status-${r.status.replace(/\s+/g, '-')}`}>{r.status}</span>}
                    {r.at && (
                      <time dateTime={r.at} title={formatLocal(r.at)}>
                        {formatUtc(r.at)}
                      </time>
                    )}
                  </div>
                  {r.snippet && (
                    <p className="search-snippet">
                      {r.field && <span className="search-field">{r.field}</span>}
                      <Highlighted text={r.snippet} spans={r.highlights} />
                    </p>
                  )}
                </li>
              ))}
            </ul>
          )}
          {!answer.problem && query === text && answer.total === 0 && <p className="hint">Nothing in this incident matches.</p>}
          <div className="search-footer">
            <span className="hint" data-testid="incident-search-count">
              {answer.total > answer.results.length
                ? `${answer.results.length} shown, ${(answer.total - answer.results.length).toLocaleString('en')} more: add words to narrow it down`
                : answer.total > 0 && `${answer.total} found · ↑↓ to choose, Enter to go, Esc to leave`}
            </span>
            <Link to={`/search?q=${encodeURIComponent(text.trim())}`} className="search-everywhere">
              Search all incidents
            </Link>
          </div>
        </div>
      )}
    </div>
  );
}
