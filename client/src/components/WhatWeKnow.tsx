/**
 * "What we know": where the investigation stands, for someone back from a break. The conclusions
 * drawn so far (newest first), and each hypothesis with its status and the entries for and against it.
 */
import { useMemo, useState, type Ref } from 'react';
import type * as Y from 'yjs';
import { Limits } from '../../../shared/protocol';
import { createHypothesis, HypothesisStatuses, setHypothesisStatus, type Entry, type Hypothesis, type HypothesisStatus } from '../../../shared/schema/doc';
import { formatUtc } from '../time';
import { HypothesisActions } from './Corrections';
import { field, useSubmit } from './form';

interface Props {
  doc: Y.Doc;
  entries: Entry[];
  hypotheses: Hypothesis[];
  canWrite: boolean;
  hypothesisRef: Ref<HTMLInputElement>;
  /** Folded away to a line (the default on a phone, where the log needs the room). */
  open: boolean;
  onToggle: () => void;
  onJump: (entryId: string) => void;
}

const FIRST_CONCLUSIONS = 8;

function EntryLink({ entry, onJump }: { entry: Entry; onJump: (id: string) => void }) {
  return (
    <button type="button" className="link" onClick={() => onJump(entry.id)} title={`Show “${entry.title}” in the log`}>
      {entry.title || '(untitled)'}
    </button>
  );
}

function Conclusions({ entries, onJump }: Pick<Props, 'entries' | 'onJump'>) {
  const [all, setAll] = useState(false);
  const concluded = useMemo(() => entries.filter((e) => e.conclusion.trim() || e.kind === 'conclusion').reverse(), [entries]);
  if (concluded.length === 0) return <p className="hint">No conclusions yet. Write one in an entry’s Conclusion field.</p>;
  return (
    <>
      <ul className="conclusions">
        {(all ? concluded : concluded.slice(0, FIRST_CONCLUSIONS)).map((entry) => (
          <li key={entry.id} className={entry.kind === 'conclusion' ? 'conclusion-entry' : undefined}>
            <time dateTime={entry.ranAt}>{formatUtc(entry.ranAt).slice(11)}</time> <EntryLink entry={entry} onJump={onJump} />
            {entry.conclusion.trim() && <p>{entry.conclusion.trim().split('\n')[0]}</p>}
          </li>
        ))}
      </ul>
      {concluded.length > FIRST_CONCLUSIONS && (
        <button type="button" className="quiet small" onClick={() => setAll(!all)}>
          {all ? 'Show fewer' : `Show all ${concluded.length}`}
        </button>
      )}
    </>
  );
}

function Evidence({ label, entries, onJump }: { label: string; entries: Entry[]; onJump: (id: string) => void }) {
  if (entries.length === 0) return null;
  return (
    <div className="evidence">
      <h4>
        {label} ({entries.length})
      </h4>
      <ul>
        {entries.map((entry) => (
          <li key={entry.id}>
            <EntryLink entry={entry} onJump={onJump} />
          </li>
        ))}
      </ul>
    </div>
  );
}

function NewHypothesis({ doc, inputRef }: { doc: Y.Doc; inputRef: Ref<HTMLInputElement> }) {
  const { onSubmit, error } = useSubmit(async (fields, form) => {
    const statement = field(fields, 'statement').trim();
    if (!statement) throw new Error('Say what you suspect, e.g. “switch stack bug”.');
    if (statement.length > Limits.maxTitleChars) throw new Error(`The hypothesis is ${statement.length} characters; the limit is ${Limits.maxTitleChars}.`);
    createHypothesis(doc, statement);
    form.reset();
  });
  return (
    <form onSubmit={onSubmit} aria-label="New hypothesis" className="new-hypothesis">
      <div className="row">
        <label className="grow">
          New hypothesis
          <input name="statement" ref={inputRef} placeholder="e.g. 1 ms microbursts saturate the uplink" autoComplete="off" />
        </label>
        <button type="submit">Add</button>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

export function WhatWeKnow({ doc, entries, hypotheses, canWrite, hypothesisRef, open, onToggle, onJump }: Props) {
  return (
    <section className="card what-we-know" aria-labelledby="know-heading">
      <h2 id="know-heading">
        <button type="button" className="fold" aria-expanded={open} onClick={onToggle}>
          What we know
          {!open && <span className="hint"> — {hypotheses.length} {hypotheses.length === 1 ? 'hypothesis' : 'hypotheses'}</span>}
        </button>
      </h2>
      {open && <Findings doc={doc} entries={entries} hypotheses={hypotheses} canWrite={canWrite} hypothesisRef={hypothesisRef} onJump={onJump} />}
    </section>
  );
}

function Findings({ doc, entries, hypotheses, canWrite, hypothesisRef, onJump }: Omit<Props, 'open' | 'onToggle'>) {
  const evidence = useMemo(() => {
    const byHypothesis = new Map<string, { supports: Entry[]; refutes: Entry[] }>();
    for (const entry of entries) {
      for (const [id, verdict] of Object.entries(entry.hypotheses)) {
        const found = byHypothesis.get(id) ?? { supports: [], refutes: [] };
        if (verdict === 'supports' || verdict === 'refutes') found[verdict].push(entry);
        byHypothesis.set(id, found);
      }
    }
    return byHypothesis;
  }, [entries]);

  return (
    <>
      <h3>Conclusions</h3>
      <Conclusions entries={entries} onJump={onJump} />
      <h3>Hypotheses</h3>
      {hypotheses.length === 0 && <p className="hint">No hypotheses yet.</p>}
      <ul className="hypotheses">
        {hypotheses.map((h) => (
          <li key={h.id} className={`hypothesis status-${h.status}`} aria-label={h.statement} data-hypothesis-id={h.id} tabIndex={-1}>
            <div className="hypothesis-head">
              <span className="statement">{h.statement}</span>
              {canWrite ? (
                <select
                  aria-label={`Status of “${h.statement}”`}
                  value={h.status}
                  onChange={(e) => setHypothesisStatus(doc, h.id, e.target.value as HypothesisStatus)}
                >
                  {HypothesisStatuses.map((s) => (
                    <option key={s}>{s}</option>
                  ))}
                </select>
              ) : (
                <span className={`badge hypothesis-${h.status}`}>{h.status}</span>
              )}
              {canWrite && <HypothesisActions doc={doc} hypothesis={h} />}
            </div>
            <Evidence label="For" entries={evidence.get(h.id)?.supports ?? []} onJump={onJump} />
            <Evidence label="Against" entries={evidence.get(h.id)?.refutes ?? []} onJump={onJump} />
            {!evidence.get(h.id) && <p className="hint">No evidence marked yet.</p>}
          </li>
        ))}
      </ul>
      {canWrite && <NewHypothesis doc={doc} inputRef={hypothesisRef} />}
    </>
  );
}
