/**
 * Replay, on the incident page itself: the log, "What we know" and the alerts exactly as they were
 * at a moment of the history, read-only, rendered by the same components as the live page from a
 * copy of the document the replay owns. What the last step changed is outlined, with who changed it.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Awareness } from 'y-protocols/awareness';
import type { EntryAuthorship, Incident, UserRef } from '../../../shared/model';
import type { Person } from '../collab/presence';
import { AlertsAsOf } from '../evidence/alerts-as-of';
import { EvidenceContext, useEvidence, type PageEvidence } from '../evidence/incident-evidence';
import { AuthorsAsOf } from '../history/authors-as-of';
import { Replay } from '../history/replay';
import type { ReplayedDoc } from '../history/replayed-doc';
import { useStore } from '../store';
import { AlertsPanel } from './AlertsPanel';
import { EntryLog } from './EntryLog';
import { Durations, MilestoneStrip } from './Milestones';
import { ReplayBar } from './ReplayBar';
import type { VirtualListHandle } from './VirtualList';
import { WhatWeKnow } from './WhatWeKnow';

interface Props {
  incident: Incident;
  /** The live page's; nobody edits in a replay, so it is never used for cursors. */
  awareness: Awareness;
  /** Folded like the live page's "What we know". */
  knowOpen: boolean;
  onToggleKnow: () => void;
  onExit: () => void;
}

const NOBODY_EDITING: ReadonlyMap<string, Person[]> = new Map();
const NOTHING_UNSAVED: ReadonlySet<string> = new Set();
const NO_AUTHORS: ReadonlyMap<string, EntryAuthorship> = new Map();
const ignore = () => {};

const count = (n: number) => `${n.toLocaleString('en')} ${n === 1 ? 'entry' : 'entries'} then`;

/** The replay of an incident while the component using it is on screen. */
function useReplay(incidentId: string): Replay | undefined {
  const [replay, setReplay] = useState<Replay>();
  useEffect(() => {
    const opened = new Replay(incidentId);
    setReplay(opened);
    void opened.open();
    return () => {
      opened.destroy();
      setReplay(undefined);
    };
  }, [incidentId]);
  return replay;
}

/** The page's evidence with the alerts as they stood at the replay's moment. */
function useEvidenceThen(replay: Replay): PageEvidence | undefined {
  const live = useEvidence();
  const position = useStore(replay.position);
  const [alerts, setAlerts] = useState<AlertsAsOf>();
  useEffect(() => {
    const then = new AlertsAsOf(live.alerts);
    setAlerts(then);
    return () => then.destroy();
  }, [live.alerts]);
  useEffect(() => alerts?.setAt(new Date(position.at).toISOString()), [alerts, position.at]);
  return useMemo(() => alerts && { incidentId: live.incidentId, attachments: live.attachments, alerts }, [live, alerts]);
}

export function ReplayView({ incident, awareness, knowOpen, onToggleKnow, onExit }: Props) {
  const replay = useReplay(incident.id);
  if (!replay) return null;
  return <ReplayPane replay={replay} incident={incident} awareness={awareness} knowOpen={knowOpen} onToggleKnow={onToggleKnow} onExit={onExit} />;
}

function ReplayPane({ replay, ...props }: Props & { replay: Replay }) {
  const shown = useStore(replay.shown);
  const evidence = useEvidenceThen(replay);
  return (
    <>
      <ReplayBar replay={replay} onExit={props.onExit} />
      {shown && evidence && (
        <EvidenceContext value={evidence}>
          <ReplayedLog replay={replay} shown={shown} {...props} />
        </EvidenceContext>
      )}
    </>
  );
}

function ReplayedLog({ replay, shown, incident, awareness, knowOpen, onToggleKnow }: Props & { replay: Replay; shown: ReplayedDoc }) {
  const entries = useStore(shown.entries.sorted);
  const hypotheses = useStore(shown.hypotheses);
  const milestones = useStore(shown.milestones);
  const meta = useStore(shown.meta);
  const index = useStore(replay.index);
  const { seq, at } = useStore(replay.position);
  const step = useStore(replay.step);
  const [selectedId, setSelectedId] = useState<string>();
  const log = useRef<VirtualListHandle>(null);
  const hypothesisInput = useRef<HTMLInputElement>(null);

  const bylines = useMemo(() => index && new AuthorsAsOf(index.events, (id): UserRef => ({ id, name: replay.userName(id) })), [index, replay]);
  const authors = useMemo(() => bylines?.at(seq) ?? NO_AUTHORS, [bylines, seq]);

  const jump = useCallback((id: string) => {
    setSelectedId(id);
    requestAnimationFrame(() => log.current?.scrollTo(id));
  }, []);
  // Follow the replay: bring what a step changed into view (without moving what is already in it).
  useEffect(() => {
    const [first] = step.entries.keys();
    if (first) requestAnimationFrame(() => log.current?.scrollTo(first, 'nearest'));
  }, [step]);

  return (
    <div className="incident-body replaying">
      <section className="log" aria-label="Log as it was then">
        <div className="log-toolbar">
          <span data-testid="replay-entry-count">{count(entries.length)}</span>
        </div>
        <section className="replay-milestones" aria-label="Milestones then">
          <h2>Milestones then</h2>
          <MilestoneStrip milestones={milestones} today={new Date(at)} />
          <Durations milestones={milestones} open={(meta.status ?? incident.status) !== 'resolved'} at={at} />
        </section>
        {entries.length === 0 && <p className="hint">Nothing was logged yet at this moment.</p>}
        <EntryLog
          doc={shown.doc}
          awareness={awareness}
          entries={entries}
          authors={authors}
          editing={NOBODY_EDITING}
          unsaved={NOTHING_UNSAVED}
          hypotheses={hypotheses}
          canWrite={false}
          selectedId={selectedId}
          editingId={undefined}
          onSelect={setSelectedId}
          onEdit={ignore}
          handle={log}
          changes={step.entries}
        />
      </section>
      <aside className="side">
        <AlertsPanel matchers={incident.alertMatchers ?? []} canWrite={false} />
        <WhatWeKnow
          doc={shown.doc}
          entries={entries}
          hypotheses={hypotheses}
          canWrite={false}
          hypothesisRef={hypothesisInput}
          open={knowOpen}
          onToggle={onToggleKnow}
          onJump={jump}
        />
      </aside>
    </div>
  );
}
