/**
 * What the incident is and how it stands: title, severity, status (responders change it here),
 * when it started (UTC) and for how long it has been going on, who is here, and whether your
 * changes are saved; its milestones and the durations between them.
 */
import { useEffect, useState } from 'react';
import { IncidentStatuses, type Incident, type IncidentStatus } from '../../../shared/model';
import type { Meta } from '../../../shared/schema/doc';
import type { MilestoneView } from '../../../shared/schema/milestones';
import type { Presence } from '../collab/presence';
import type { SaveState } from '../collab/save-state';
import { api } from '../api';
import { useHeightAsCssVariable } from '../sticky';
import { formatElapsed, formatLocal, formatUtc, serverNowSync } from '../time';
import { ExportMenu } from './ExportMenu';
import { IncidentBadges } from './IncidentBadges';
import { MembersEditor, SeverityPicker, TitleEditor } from './IncidentControls';
import { Durations, MilestoneStrip } from './Milestones';
import { PresenceList } from './PresenceList';
import { SaveIndicator } from './SaveIndicator';

interface Props {
  incident: Incident;
  meta: Meta;
  presence: Presence;
  save: SaveState;
  keptInBrowser: boolean;
  canWrite: boolean;
  /** Its creator or an admin: may restrict it and choose its members. */
  canManageMembers: boolean;
  onHelp: () => void;
  /** The milestones' times, live from the document. */
  milestones: Record<string, string>;
  /** Who set each (from the server). */
  milestoneViews: ReadonlyMap<string, MilestoneView>;
  /** Opens the milestone picker on one (`''`: a new custom one); absent for viewers. */
  onPickMilestone?: (name: string | null) => void;
}

function useTicking(ms: number): Date {
  const [now, setNow] = useState(serverNowSync);
  useEffect(() => {
    const timer = setInterval(() => setNow(serverNowSync()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

function StatusPicker({ incident, status }: { incident: Incident; status: IncidentStatus }) {
  const [error, setError] = useState<string>();
  const change = (next: IncidentStatus) =>
    api('PATCH', `/api/incidents/${encodeURIComponent(incident.id)}`, { status: next }).then(
      () => setError(undefined),
      (err: Error) => setError(`Status not changed: ${err.message}`),
    );
  return (
    <>
      <select aria-label="Status" className={`status-select status-${status}`} value={status} onChange={(e) => void change(e.target.value as IncidentStatus)}>
        {IncidentStatuses.map((s) => (
          <option key={s}>{s}</option>
        ))}
      </select>
      {error && (
        <span className="error" role="alert">
          {error}
        </span>
      )}
    </>
  );
}

/** How long the incident has lasted, ticking every second (it shows seconds in its first minute). */
function Elapsed({ startedAt, resolvedAt }: { startedAt: string; resolvedAt: string | undefined }) {
  const now = useTicking(1000);
  const elapsed = formatElapsed((resolvedAt ? Date.parse(resolvedAt) : now.getTime()) - Date.parse(startedAt));
  return (
    <span className="elapsed" title={resolvedAt ? `resolved ${formatUtc(resolvedAt)}` : 'elapsed so far'}>
      {resolvedAt ? `lasted ${elapsed}` : `${elapsed} elapsed`}
    </span>
  );
}

export function IncidentHeader({ incident, meta, presence, save, keptInBrowser, canWrite, canManageMembers, onHelp, milestones, milestoneViews, onPickMilestone }: Props) {
  const header = useHeightAsCssVariable<HTMLElement>('--header-height');
  const [editingMembers, setEditingMembers] = useState(false);
  const status = meta.status ?? incident.status;
  const startedAt = meta.startedAt ?? incident.createdAt;
  const resolvedAt = status === 'resolved' ? (meta.resolvedAt ?? incident.resolvedAt ?? undefined) : undefined;
  const title = meta.title ?? incident.title;
  return (
    <header className="incident-header" ref={header}>
      <div className="incident-title-row">
        {canWrite ? <TitleEditor incident={incident} title={title} /> : <h1>{title}</h1>}
        <SaveIndicator state={save} keptInBrowser={keptInBrowser} />
      </div>
      <div className="incident-facts">
        {canWrite ? (
          <>
            <SeverityPicker incident={incident} severity={meta.severity ?? incident.severity} />
            <StatusPicker incident={incident} status={status} />
          </>
        ) : (
          <IncidentBadges severity={meta.severity ?? incident.severity} status={status} />
        )}
        <span>
          started <time dateTime={startedAt} title={formatLocal(startedAt)}>{formatUtc(startedAt)}</time>
        </span>
        <Elapsed startedAt={startedAt} resolvedAt={resolvedAt} />
        {meta.members !== undefined && (
          <span className="badge restricted" title={`Only its members can see this incident: ${meta.members}`}>
            restricted to {meta.members}
          </span>
        )}
        {canWrite && canManageMembers && (
          <button type="button" className="quiet small" onClick={() => setEditingMembers(true)}>
            {meta.members !== undefined ? 'Members…' : 'Restrict…'}
          </button>
        )}
        {editingMembers && <MembersEditor incident={incident} onClose={() => setEditingMembers(false)} />}
        <PresenceList presence={presence} />
        <ExportMenu incidentId={incident.id} />
        <button type="button" className="quiet small help-button" onClick={onHelp} aria-label="Keyboard shortcuts">
          ?
        </button>
      </div>
      <div className="incident-milestones">
        <MilestoneStrip milestones={milestones} views={milestoneViews} onPick={canWrite ? onPickMilestone : undefined} />
        <Durations milestones={milestones} open={status !== 'resolved'} />
      </div>
    </header>
  );
}
