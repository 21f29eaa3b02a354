/**
 * One log entry as everyone reads it: when it was run (UTC; local time on hover), who wrote it and
 * who changed it since (as the server's history says), how to repeat it, what it showed, what it
 * means, and what it says about each hypothesis.
 */
import { memo, useRef, useState, type DragEvent } from 'react';
import type * as Y from 'yjs';
import type { EntryAuthorship } from '../../../shared/model';
import type { Entry, Hypothesis } from '../../../shared/schema/doc';
import type { Person } from '../collab/presence';
import { useEvidence } from '../evidence/incident-evidence';
import { linkAlert, unlinkAlert } from '../collab/entry-evidence';
import { attachLinked } from '../evidence/attach-linked';
import { formatLocal, formatUtc } from '../time';
import { AlertSuggestions } from './AlertSuggestions';
import { DeleteEntryButton } from './Corrections';
import { EntryAlerts } from './EntryAlerts';
import { EntryFiles } from './EntryFiles';
import { EvidencePicker } from './EvidencePicker';
import { LinkForm } from './LinkForm';
import { Markdown } from './Markdown';
import { MitigatedButton, MitigatedMark, MitigatedOffer } from './MitigatedIt';

interface Props {
  entry: Entry;
  authors: EntryAuthorship | undefined;
  /** Others editing it right now. */
  editingBy: Person[] | undefined;
  /** This browser has changes to it that the server does not have yet. */
  unsaved: boolean;
  hypotheses: Hypothesis[];
  selected: boolean;
  canWrite: boolean;
  doc: Y.Doc;
  onSelect: (id: string) => void;
  onEdit: (id: string) => void;
  /** In a replay: who changed it in the step just played, and what, e.g. "kim · observations" (outlined). */
  change?: string;
}

const LOGGED_LATE_MS = 60_000;

function Byline({ entry, authors, unsaved }: Pick<Props, 'entry' | 'authors' | 'unsaved'>) {
  if (!authors) return <p className="byline">{unsaved ? 'by you' : 'by …'}</p>;
  const late = Date.parse(authors.loggedAt) - Date.parse(entry.ranAt) > LOGGED_LATE_MS;
  return (
    <p className="byline">
      by <span className="author">{authors.createdBy.name}</span>
      {late && (
        <>
          {' '}· logged <time dateTime={authors.loggedAt} title={formatLocal(authors.loggedAt)}>{formatUtc(authors.loggedAt)}</time>
        </>
      )}
      {authors.editors.length > 0 && (
        <>
          {' '}· edited by <span className="editors">{authors.editors.map((e) => e.name).join(', ')}</span>
        </>
      )}
    </p>
  );
}

function CopyButton({ text }: { text: string }) {
  const [copied, setCopied] = useState(false);
  if (!navigator.clipboard) return null; // only in secure contexts
  const copy = () =>
    navigator.clipboard.writeText(text).then(() => {
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    });
  return (
    <button type="button" className="quiet small copy" onClick={copy}>
      {copied ? 'Copied' : 'Copy'}
    </button>
  );
}

const carriesFiles = (event: DragEvent) => event.dataTransfer.types.includes('Files');

export const EntryView = memo(function EntryView(props: Props) {
  const { entry, editingBy, unsaved, hypotheses, selected, canWrite, doc, onSelect, onEdit, change } = props;
  const [picking, setPicking] = useState(false);
  const [linkingAlerts, setLinkingAlerts] = useState(false);
  const [addingLink, setAddingLink] = useState(false);
  const [dropping, setDropping] = useState(false);
  const [offeringMitigated, setOfferingMitigated] = useState(false);
  const filePicker = useRef<HTMLInputElement>(null);
  const { attachments, alerts: alertBook } = useEvidence();
  const [attachProblem, setAttachProblem] = useState<string>();
  // Files dropped on the entry are uploaded as its evidence (pasted ones: IncidentPage).
  const drop = canWrite
    ? {
        onDragOver: (event: DragEvent) => {
          if (!carriesFiles(event)) return;
          event.preventDefault();
          setDropping(true);
        },
        onDragLeave: (event: DragEvent) => !event.currentTarget.contains(event.relatedTarget as Node | null) && setDropping(false),
        onDrop: (event: DragEvent) => {
          if (!carriesFiles(event)) return;
          event.preventDefault();
          setDropping(false);
          attachments.attachFiles(doc, entry.id, event.dataTransfer.files);
        },
      }
    : {};
  const verdicts = Object.entries(entry.hypotheses)
    .map(([id, verdict]) => ({ id, verdict, statement: hypotheses.find((h) => h.id === id)?.statement }))
    .filter((v) => v.statement !== undefined);
  return (
    <article
      className={`entry entry-${entry.kind}${selected ? ' selected' : ''}${dropping ? ' dropping' : ''}${change ? ' changed' : ''}`}
      aria-label={entry.title}
      data-entry-id={entry.id}
      tabIndex={-1}
      aria-current={selected || undefined}
      onClick={() => onSelect(entry.id)}
      {...drop}
    >
      <header className="entry-header">
        <span className={`badge kind-${entry.kind}`}>{entry.kind}</span>
        <h3>{entry.title || '(untitled)'}</h3>
        <time className="ran-at" dateTime={entry.ranAt} title={formatLocal(entry.ranAt)}>
          {formatUtc(entry.ranAt)}
        </time>
      </header>
      <div className="entry-meta">
        <Byline entry={entry} authors={props.authors} unsaved={unsaved} />
        <MitigatedMark entry={entry} />
        {unsaved && <span className="unsaved-mark">not yet saved</span>}
        {change && <span className="replay-change">{change}</span>}
        {editingBy?.map((p) => (
          <span key={p.id} className="editing-now" style={{ borderColor: p.color }}>
            <span className="dot" style={{ background: p.color }} /> {p.name} is editing
          </span>
        ))}
      </div>
      {entry.command && (
        <div className="command">
          <pre>
            <code>{entry.command}</code>
          </pre>
          <CopyButton text={entry.command} />
        </div>
      )}
      {entry.observations && (
        <section className="entry-text" aria-label="Observations">
          <h4>Observations</h4>
          <Markdown text={entry.observations} />
        </section>
      )}
      {entry.conclusion && (
        <section className="entry-text" aria-label="Conclusion">
          <h4>Conclusion</h4>
          <Markdown text={entry.conclusion} />
        </section>
      )}
      <EntryFiles doc={doc} entry={entry} canWrite={canWrite} />
      {addingLink && <LinkForm doc={doc} entryId={entry.id} onDone={() => setAddingLink(false)} />}
      <EntryAlerts doc={doc} entry={entry} canWrite={canWrite} />
      {linkingAlerts && (
        <fieldset className="alert-linker" onKeyDown={(e) => e.key === 'Escape' && setLinkingAlerts(false)}>
          <legend>Alerts around {formatUtc(entry.ranAt)}</legend>
          <AlertSuggestions
            at={entry.ranAt}
            linked={entry.alerts}
            onToggle={(alert, link) => {
              (link ? linkAlert : unlinkAlert)(doc, entry.id, alert.id);
              if (link) void attachLinked(alertBook, [alert.id]).then(setAttachProblem);
            }}
          />
          {attachProblem && <p className="error-text">{attachProblem}</p>}
          <button type="button" className="quiet small" onClick={() => setLinkingAlerts(false)}>
            Done
          </button>
        </fieldset>
      )}
      {offeringMitigated && canWrite && <MitigatedOffer entry={entry} onDone={() => setOfferingMitigated(false)} />}
      {picking && <EvidencePicker doc={doc} entry={entry} hypotheses={hypotheses} onClose={() => setPicking(false)} />}
      {(verdicts.length > 0 || canWrite) && (
        <footer className="entry-footer">
          {verdicts.map((v) => (
            <span key={v.id} className={`verdict verdict-${v.verdict}`}>
              {v.verdict} “{v.statement}”
            </span>
          ))}
          {canWrite && (
            <span className="entry-actions">
              <input
                ref={filePicker}
                type="file"
                multiple
                hidden
                onChange={(e) => {
                  attachments.attachFiles(doc, entry.id, [...(e.currentTarget.files ?? [])]);
                  e.currentTarget.value = '';
                }}
              />
              <button type="button" className="quiet small" onClick={() => filePicker.current?.click()} title="Or drop files on the entry, or paste a screenshot">
                Attach…
              </button>
              <button type="button" className="quiet small" aria-expanded={addingLink} onClick={() => setAddingLink(!addingLink)}>
                Link…
              </button>
              <button type="button" className="quiet small" aria-expanded={linkingAlerts} onClick={() => setLinkingAlerts(!linkingAlerts)}>
                Alerts…
              </button>
              <button type="button" className="quiet small" aria-expanded={picking} onClick={() => setPicking(!picking)} title="What this entry says about each hypothesis">
                Verdicts…
              </button>
              <MitigatedButton doc={doc} entry={entry} onOffer={setOfferingMitigated} />
              <button type="button" className="quiet small" onClick={() => onEdit(entry.id)}>
                Edit
              </button>
              <DeleteEntryButton doc={doc} entry={entry} />
            </span>
          )}
        </footer>
      )}
    </article>
  );
});
