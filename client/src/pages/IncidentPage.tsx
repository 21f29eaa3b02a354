/**
 * One incident: its header, the log of entries live for everyone on it, a composer to log a test,
 * and "What we know". Works offline: the page opens from what this browser kept.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Incident, User } from '../../../shared/model';
import { useIncidentSession, type IncidentSession } from '../collab/incident-session';
import { AlertsPanel } from '../components/AlertsPanel';
import { CatchUp } from '../components/CatchUp';
import { ConcurrentEditNotice } from '../components/ConcurrentEditNotice';
import { DeletedItems } from '../components/Corrections';
import { EntryComposer } from '../components/EntryComposer';
import { EntryLog, preloadEditor } from '../components/EntryLog';
import { IncidentHeader } from '../components/IncidentHeader';
import { IncidentSearch } from '../components/IncidentSearch';
import { LogDamageBanner } from '../components/LogDamageBanner';
import { MilestoneContext } from '../components/MitigatedIt';
import { MilestonePicker } from '../components/Milestones';
import { ReplayView } from '../components/ReplayView';
import { ShortcutHelp } from '../components/ShortcutHelp';
import { LogViewSwitch, TimelineView } from '../components/TimelineView';
import { UndoBar, UndoContext } from '../components/UndoBar';
import type { VirtualListHandle } from '../components/VirtualList';
import { WhatWeKnow } from '../components/WhatWeKnow';
import { EvidenceContext, useEvidence, useIncidentEvidence } from '../evidence/incident-evidence';
import { getRemembered } from '../offline';
import type { IncidentSearchSources, LocalResult } from '../search/incident-search';
import { focusWhenRendered, linkedTarget, type LinkedTarget } from '../search/linked-target';
import { Link } from '../router';
import { useShortcuts } from '../shortcuts';
import { Store, useStore } from '../store';
import { serverClockOffset } from '../time';
import { toggleTheme } from '../theme';

export function IncidentPage({ incidentId, user }: { incidentId: string; user: User }) {
  const [incident, setIncident] = useState<Incident>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    void serverClockOffset(); // measured now, ready when the first entry is written
    getRemembered<Incident>(`/api/incidents/${encodeURIComponent(incidentId)}`).then(setIncident, (err: Error) => setError(err.message));
  }, [incidentId]);

  if (error) {
    return (
      <p className="error notice" role="alert">
        {error}. <Link to="/">All incidents</Link>
      </p>
    );
  }
  if (!incident) return <p className="notice">Loading…</p>;
  return <IncidentWorkspace incident={incident} user={user} />;
}

const NOT_GONE = new Store(false);

function IncidentWorkspace({ incident, user }: { incident: Incident; user: User }) {
  const session = useIncidentSession(incident.id, user);
  const evidence = useIncidentEvidence(incident.id);
  const gone = useStore(session?.gone ?? NOT_GONE);
  if (gone) return <p className="error notice" role="alert">This incident does not exist, or is no longer shared with you. <a href="/">All incidents</a></p>;
  if (!session || !evidence) return <p className="notice">Loading…</p>;
  return (
    <EvidenceContext value={evidence}>
      {/* Only its creator or an admin may say who sees it (the server refuses anyone else): others are not offered it. */}
      <IncidentLog session={session} incident={incident} canWrite={user.role !== 'viewer'} canManageMembers={user.role === 'admin' || user.id === incident.createdBy} />
    </EvidenceContext>
  );
}

/** The editor's code is fetched this long after the log is on screen, out of the latecomer's way. */
const EDITOR_AFTER_MS = 1500;

/** Where the page has room for the log and a side column (style.css). */
const WIDE = '(min-width: 60rem)';

const count = (n: number) => `${n.toLocaleString('en')} ${n === 1 ? 'entry' : 'entries'}`;

/**
 * A screenshot pasted anywhere on the page goes to the entry it was pasted in, or else to the one
 * selected; not from inside a form (the composer), where it would land on an entry nobody meant.
 */
function usePastedFiles(session: IncidentSession, selectedId: string | undefined, canWrite: boolean) {
  const { attachments } = useEvidence();
  useEffect(() => {
    if (!canWrite) return;
    const onPaste = (event: ClipboardEvent) => {
      const files = [...(event.clipboardData?.files ?? [])];
      const target = event.target instanceof Element ? event.target : null;
      if (files.length === 0 || event.defaultPrevented || target?.closest('form')) return;
      const entryId = target?.closest<HTMLElement>('[data-entry-id]')?.dataset.entryId ?? selectedId;
      if (!entryId) return;
      event.preventDefault();
      attachments.attachFiles(session.doc, entryId, files);
    };
    document.addEventListener('paste', onPaste);
    return () => document.removeEventListener('paste', onPaste);
  }, [session, selectedId, canWrite, attachments]);
}

function IncidentLog({ session, incident, canWrite, canManageMembers }: { session: IncidentSession; incident: Incident; canWrite: boolean; canManageMembers: boolean }) {
  const entries = useStore(session.entries.sorted);
  const hypotheses = useStore(session.hypotheses);
  const deletedEntries = useStore(session.entries.deleted);
  const deletedHypotheses = useStore(session.deletedHypotheses);
  const meta = useStore(session.meta);
  const save = useStore(session.save);
  const presence = useStore(session.presence);
  const authors = useStore(session.authors.authors);
  const refused = useStore(session.refused);
  const loaded = useStore(session.loaded);
  const keptInBrowser = useStore(session.keptInBrowser);
  const milestones = useStore(session.milestones);
  const milestoneViews = useStore(session.milestoneFeed.views);
  const suggestions = useStore(session.milestoneFeed.suggestions);

  const [selectedId, setSelectedId] = useState<string>();
  const [editingId, setEditingId] = useState<string>();
  const [view, setView] = useState<'log' | 'timeline'>('log');
  const [help, setHelp] = useState(false);
  const [knowOpen, setKnowOpen] = useState(() => window.matchMedia(WIDE).matches);
  const [replaying, setReplaying] = useState(false);
  const [catchingUp, setCatchingUp] = useState(false);
  /** The milestone picker: closed (undefined), on a milestone, on a new custom one (''), or on the next unset one (null). */
  const [pickingMilestone, setPickingMilestone] = useState<string | null>();
  const log = useRef<VirtualListHandle>(null);
  const composerTitle = useRef<HTMLInputElement>(null);
  const hypothesisInput = useRef<HTMLInputElement>(null);
  const searchInput = useRef<HTMLInputElement>(null);
  const { alerts: alertBook, attachments: attachmentShelf } = useEvidence();
  const alerts = useStore(alertBook.byId);
  const attachments = useStore(attachmentShelf.byId);
  const searchSources = useMemo<IncidentSearchSources>(
    () => ({ incidentId: incident.id, entries, hypotheses, alerts, attachments }),
    [incident.id, entries, hypotheses, alerts, attachments],
  );

  const jump = useCallback((id: string) => {
    setView('log');
    setSelectedId(id);
    requestAnimationFrame(() => log.current?.scrollTo(id));
  }, []);
  /** To the entry, with the focus on it: from a search result or a link to it. */
  const goToEntry = useCallback(
    (id: string) => {
      jump(id);
      focusWhenRendered(`article[data-entry-id="${CSS.escape(id)}"]`);
    },
    [jump],
  );
  const goToHypothesis = useCallback((id: string) => {
    setKnowOpen(true);
    focusWhenRendered(`[data-hypothesis-id="${CSS.escape(id)}"]`, 'nearest');
  }, []);
  const openResult = (result: LocalResult) => {
    if (result.entryId) goToEntry(result.entryId);
    else if (result.hypothesisId) goToHypothesis(result.hypothesisId);
    else if (result.alertId) focusWhenRendered(`.alerts-panel li[data-alert-id="${CSS.escape(result.alertId)}"]`, 'nearest');
  };

  // A link to an entry or a hypothesis (`#entry-<id>`, from search results): go there once it has arrived.
  const [linked, setLinked] = useState<LinkedTarget | undefined>(linkedTarget);
  useEffect(() => {
    const onMove = () => setLinked(linkedTarget());
    window.addEventListener('popstate', onMove);
    window.addEventListener('hashchange', onMove);
    return () => {
      window.removeEventListener('popstate', onMove);
      window.removeEventListener('hashchange', onMove);
    };
  }, []);
  useEffect(() => {
    if (linked?.entryId && entries.some((e) => e.id === linked.entryId)) {
      goToEntry(linked.entryId);
      setLinked(undefined);
    } else if (linked?.hypothesisId && hypotheses.some((h) => h.id === linked.hypothesisId)) {
      goToHypothesis(linked.hypothesisId);
      setLinked(undefined);
    }
  }, [linked, entries, hypotheses, goToEntry, goToHypothesis]);
  const edit = useCallback((id: string | undefined) => {
    if (id) setSelectedId(id);
    setEditingId(id);
  }, []);
  const step = (by: number) => {
    if (entries.length === 0) return;
    const at = entries.findIndex((e) => e.id === selectedId);
    const next = entries[at < 0 ? (by > 0 ? 0 : entries.length - 1) : Math.min(entries.length - 1, Math.max(0, at + by))]!;
    setSelectedId(next.id);
    log.current?.scrollTo(next.id, 'nearest');
    // The focus follows, so Tab reaches the selected entry's own buttons (Verdicts…, Edit) next.
    focusWhenRendered(`article[data-entry-id="${CSS.escape(next.id)}"]`);
  };

  useEffect(() => {
    if (!loaded || !canWrite) return;
    const timer = setTimeout(preloadEditor, EDITOR_AFTER_MS);
    return () => clearTimeout(timer);
  }, [loaded, canWrite]);

  // While replaying, the live log is hidden: nothing may be pasted into it or changed by a key.
  usePastedFiles(session, selectedId, canWrite && !replaying);

  const liveOnly = (action: () => unknown) => () => void (replaying || help || pickingMilestone !== undefined || action());
  useShortcuts({
    n: liveOnly(() => composerTitle.current?.focus()),
    j: liveOnly(() => step(1)),
    k: liveOnly(() => step(-1)),
    e: liveOnly(() => canWrite && selectedId && setEditingId(selectedId)),
    '/': liveOnly(() => searchInput.current?.focus()),
    h: liveOnly(() => {
      if (hypothesisInput.current) return hypothesisInput.current.focus();
      setKnowOpen(true);
      requestAnimationFrame(() => hypothesisInput.current?.focus());
    }),
    G: liveOnly(() => entries.length > 0 && goToEntry(entries[entries.length - 1]!.id)),
    m: liveOnly(() => canWrite && setPickingMilestone(null)),
    // s then a digit: sev3 → sev1 in two keys (the select takes the digit, IncidentControls.tsx).
    s: liveOnly(() => canWrite && document.querySelector<HTMLSelectElement>('select.severity-select')?.focus()),
    t: toggleTheme,
    '?': () => setHelp(true),
  });

  return (
    <article className="incident">
      <IncidentHeader
        incident={incident}
        meta={meta}
        presence={presence}
        save={save}
        keptInBrowser={keptInBrowser}
        canWrite={canWrite}
        canManageMembers={canManageMembers}
        onHelp={() => setHelp(true)}
        milestones={milestones}
        milestoneViews={milestoneViews}
        onPickMilestone={replaying ? undefined : setPickingMilestone}
      />
      {refused && (
        <p className="error banner" role="alert">
          Not connected: {refused}
        </p>
      )}
      <LogDamageBanner incident={incident} />
      {!canWrite && <p className="hint banner">You are a viewer: you can read this incident as it happens, but not change it.</p>}
      <ConcurrentEditNotice edits={session.concurrent} onEdit={edit} />
      <CatchUp incidentId={incident.id} asked={catchingUp} onClose={() => setCatchingUp(false)} onJump={jump} />
      {replaying && (
        <ReplayView
          incident={incident}
          awareness={session.provider.awareness}
          knowOpen={knowOpen}
          onToggleKnow={() => setKnowOpen(!knowOpen)}
          onExit={() => setReplaying(false)}
        />
      )}
      {/* Kept while replaying (hidden), so the live log is back at once, where it was. */}
      <MilestoneContext value={canWrite ? session.milestoneFeed : undefined}>
      <UndoContext value={canWrite ? session.undo : undefined}>
      <div className="incident-body" hidden={replaying}>
        <section className="log" aria-label="Log">
          <div className="log-toolbar">
            <LogViewSwitch view={view} onChange={setView} />
            <span data-testid="entry-count">{count(entries.length)}</span>
            <IncidentSearch sources={searchSources} inputRef={searchInput} onOpen={openResult} />
            <button type="button" className="quiet small" onClick={() => entries.length > 0 && jump(entries[entries.length - 1]!.id)}>
              Latest ↓
            </button>
            <button type="button" className="quiet small" onClick={() => setCatchingUp(true)}>
              Catch up…
            </button>
            <button type="button" className="quiet small" onClick={() => setReplaying(true)}>
              Replay
            </button>
            {canWrite && <UndoBar undo={session.undo} enabled={!replaying && !help && pickingMilestone === undefined} />}
          </div>
          {loaded && entries.length === 0 && <p className="hint">Nothing logged yet.{canWrite && ' Press n to log the first test.'}</p>}
          {view === 'timeline' ? (
            <TimelineView session={session} entries={entries} authors={authors} hypotheses={hypotheses} onOpen={jump} />
          ) : (
            <EntryLog
              doc={session.doc}
              awareness={session.provider.awareness}
              entries={entries}
              authors={authors}
              editing={presence.editing}
              unsaved={save.unsaved}
              hypotheses={hypotheses}
              canWrite={canWrite}
              selectedId={selectedId}
              editingId={editingId}
              onSelect={setSelectedId}
              onEdit={edit}
              handle={log}
            />
          )}
        </section>
        <aside className="side">
          {canWrite && <EntryComposer doc={session.doc} incidentId={incident.id} titleRef={composerTitle} onLogged={jump} />}
          <AlertsPanel matchers={incident.alertMatchers ?? []} canWrite={canWrite} />
          <WhatWeKnow
            doc={session.doc}
            entries={entries}
            hypotheses={hypotheses}
            canWrite={canWrite}
            hypothesisRef={hypothesisInput}
            open={knowOpen}
            onToggle={() => setKnowOpen(!knowOpen)}
            onJump={jump}
          />
          <DeletedItems doc={session.doc} entries={deletedEntries} hypotheses={deletedHypotheses} authors={authors} canWrite={canWrite} />
        </aside>
      </div>
      </UndoContext>
      </MilestoneContext>
      {help && <ShortcutHelp onClose={() => setHelp(false)} />}
      {pickingMilestone !== undefined && canWrite && (
        <MilestonePicker
          feed={session.milestoneFeed}
          milestones={milestones}
          views={milestoneViews}
          suggestions={suggestions}
          initial={pickingMilestone}
          onClose={() => setPickingMilestone(undefined)}
        />
      )}
    </article>
  );
}
