/**
 * Logs a test in seconds from the keyboard: `n` to get here, Tab between fields, Ctrl+Enter to add.
 * Ran-at is now on the server's clock unless a time is typed (a test run earlier). Text over the
 * limits is refused with a message and left as typed, never cut.
 */
import { Fragment, useEffect, useRef, useState, type ComponentProps, type FormEvent, type KeyboardEvent, type Ref } from 'react';
import type * as Y from 'yjs';
import { Limits } from '../../../shared/protocol';
import { createEntry } from '../../../shared/schema/doc';
import { linkAlert } from '../collab/entry-evidence';
import { attachLinked } from '../evidence/attach-linked';
import { useEvidence } from '../evidence/incident-evidence';
import { useSeenBefore } from '../search/seen-before';
import { formatUtc, parseRanAt, serverNow, serverNowSync } from '../time';
import { AlertSuggestions } from './AlertSuggestions';
import { kindOf, KindSelect, ranAtOrProblem, titleProblem } from './EntryFields';
import { field, useSubmit } from './form';
import { SeenBefore } from './SeenBefore';

interface Props {
  doc: Y.Doc;
  /** Asked of "seen before", which offers entries of other incidents only. */
  incidentId: string;
  titleRef: Ref<HTMLInputElement>;
  onLogged: (id: string) => void;
}

const TEXTS = [
  { name: 'command', label: 'Command', rows: 2, className: 'mono', placeholder: 'How to repeat it, e.g. iperf3 -c db01 -t 30' },
  { name: 'observations', label: 'Observations', rows: 3, placeholder: 'What it showed (Markdown)' },
  { name: 'conclusion', label: 'Conclusion', rows: 2, placeholder: 'What it means for the problem' },
] as const;

/** Ticks once a second while the ran-at field is empty, so "now" on screen is now. */
function useNowEverySecond(active: boolean): Date {
  const [now, setNow] = useState(serverNowSync);
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(serverNowSync()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

function RanAtHint({ text }: { text: string }) {
  const now = useNowEverySecond(text.trim() === '');
  if (text.trim() === '') return <span className="hint">now: {formatUtc(now.toISOString())}</span>;
  const parsed = parseRanAt(text, serverNowSync());
  if (typeof parsed === 'string') return <span className="hint error-text">{parsed}</span>;
  return <span className="hint">{formatUtc(parsed.toISOString())}</span>;
}

const MINUTE = 60_000;

/** Suggestions for the minute the test ran in: asked again when the minute changes, not every second. */
function RelatedAlerts({ ranAt, ...rest }: { ranAt: string } & Omit<ComponentProps<typeof AlertSuggestions>, 'at'>) {
  const now = useNowEverySecond(ranAt.trim() === '');
  const parsed = parseRanAt(ranAt, now);
  const minute = typeof parsed === 'string' ? undefined : new Date(Math.floor(parsed.getTime() / MINUTE) * MINUTE).toISOString();
  return <AlertSuggestions at={minute} {...rest} />;
}

const isEmpty = (form: HTMLFormElement) =>
  [...form.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>('input, textarea')].every((el) => el.value === '');

export function EntryComposer({ doc, incidentId, titleRef, onLogged }: Props) {
  const [ranAt, setRanAt] = useState('');
  // On a phone only the title shows until the composer is used (style.css), so the log is in reach.
  const [expanded, setExpanded] = useState(false);
  const [alertIds, setAlertIds] = useState<string[]>([]);
  const [attachProblem, setAttachProblem] = useState<string>();
  const { alerts: alertBook } = useEvidence();
  const seenBefore = useSeenBefore(incidentId);
  /** The field last typed in: dismissing "seen before" from the keyboard goes back there, caret and all. */
  const lastField = useRef<HTMLInputElement | HTMLTextAreaElement>(null);
  const { onSubmit, error, busy } = useSubmit(async (fields, form) => {
    const problem = titleProblem(field(fields, 'title'));
    if (problem) throw new Error(problem);
    const title = field(fields, 'title').trim();
    const texts = Object.fromEntries(TEXTS.map(({ name }) => [name, field(fields, name)])) as Record<(typeof TEXTS)[number]['name'], string>;
    for (const { name, label } of TEXTS) {
      const length = texts[name].length;
      if (length > Limits.maxFieldChars) {
        throw new Error(
          `${label} is ${length.toLocaleString('en')} characters; the limit is ${Limits.maxFieldChars.toLocaleString('en')}. ` +
            'Nothing was logged: trim it, or put the full output somewhere and link to it.',
        );
      }
    }
    const when = ranAtOrProblem(ranAt, await serverNow());
    if (typeof when === 'string') throw new Error(when);
    // One transaction: the entry reaches everyone with its alerts already linked.
    let id = '';
    doc.transact(() => {
      id = createEntry(doc, { kind: kindOf(field(fields, 'kind')), title, ranAt: when.toISOString(), ...texts });
      for (const alertId of alertIds) linkAlert(doc, id, alertId);
    });
    // Linked alerts join the incident too (#16); a failure does not undo the entry, it is said below.
    setAttachProblem(undefined);
    if (alertIds.length > 0) void attachLinked(alertBook, alertIds).then((problem) => problem && setAttachProblem(problem));
    form.reset();
    setRanAt('');
    setAlertIds([]);
    seenBefore.reset();
    (form.elements.namedItem('title') as HTMLInputElement).focus();
    onLogged(id);
  });
  // Ctrl/Cmd+Enter from any field adds the entry; Esc leaves the composer.
  const onKeyDown = (event: KeyboardEvent<HTMLFormElement>) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      event.currentTarget.requestSubmit();
    } else if (event.key === 'Escape' && event.target instanceof HTMLElement) {
      event.target.blur();
    }
  };
  // The title and command, as typed, are what "seen before" looks for.
  const onInput = (event: FormEvent<HTMLFormElement>) => {
    const target = event.target;
    if (!(target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement) || (target.name !== 'title' && target.name !== 'command')) return;
    lastField.current = target;
    const form = event.currentTarget;
    const value = (name: string) => (form.elements.namedItem(name) as HTMLInputElement | HTMLTextAreaElement | null)?.value ?? '';
    seenBefore.typed(value('title'), value('command'));
  };
  const dismissSeenBefore = () => {
    seenBefore.dismiss();
    lastField.current?.focus({ preventScroll: true });
  };
  return (
    <form
      className={expanded ? 'card composer expanded' : 'card composer'}
      onSubmit={onSubmit}
      onKeyDown={onKeyDown}
      onInput={onInput}
      onFocus={() => setExpanded(true)}
      onBlur={(e) => !e.currentTarget.contains(e.relatedTarget) && isEmpty(e.currentTarget) && setExpanded(false)}
      aria-label="New entry"
    >
      <h2>Log a test</h2>
      <div className="row">
        <KindSelect name="kind" defaultValue="test" />
        <label className="grow">
          Title
          <input name="title" ref={titleRef} placeholder="What you checked or did" autoComplete="off" />
        </label>
      </div>
      <div className="composer-more">
        <label>
          <span>
            Ran at (UTC) <RanAtHint text={ranAt} />
          </span>
          <input
            name="ranAt"
            className="mono"
            value={ranAt}
            onChange={(e) => setRanAt(e.target.value)}
            placeholder="now — or 06:12, -15m, 2026-03-04 06:12:30Z"
            autoComplete="off"
          />
        </label>
        {TEXTS.map(({ name, label, rows, placeholder, ...rest }) => (
          <Fragment key={name}>
            <label>
              {label}
              <textarea name={name} rows={rows} placeholder={placeholder} spellCheck={name !== 'command'} className={'className' in rest ? rest.className : undefined} />
            </label>
            {/* Under the title and the command it is about: what is being typed there never moves. */}
            {name === 'command' && !seenBefore.dismissed && <SeenBefore results={seenBefore.results} onDismiss={dismissSeenBefore} />}
          </Fragment>
        ))}
        <div className="field">
          <span className="field-label">Related alerts</span>
          <RelatedAlerts
            ranAt={ranAt}
            linked={alertIds}
            onToggle={(alert, link) => setAlertIds(link ? [...alertIds, alert.id] : alertIds.filter((id) => id !== alert.id))}
          />
        </div>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {attachProblem && (
        <p className="error" role="alert">
          {attachProblem}
        </p>
      )}
      <div className="row">
        <button type="submit" disabled={busy}>
          Add entry
        </button>
        <span className="hint">Ctrl+Enter</span>
      </div>
    </form>
  );
}
