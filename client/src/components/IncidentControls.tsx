/**
 * Changing the incident from its header: title, severity and who may see it. Each change goes through
 * the HTTP API, which writes it into the document (attributed to the user, in the history and the
 * replay) and announces it; everyone on the page sees it live through the document.
 */
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { Severities, type Incident, type Severity, type User, type UserDetails } from '../../../shared/api';
import { GROUP_MEMBER_PREFIX, groupMember, isGroupMember } from '../../../shared/members';
import { api } from '../api';
import './IncidentControls.css';

const patch = (incident: Incident, body: Record<string, unknown>) => api<Incident>('PATCH', `/api/incidents/${encodeURIComponent(incident.id)}`, body);

/** The title, and a Rename button that turns it into a field: Enter saves, Escape puts it back. */
export function TitleEditor({ incident, title }: { incident: Incident; title: string }) {
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const rename = useRef<HTMLButtonElement>(null);
  const input = useRef<HTMLInputElement>(null);
  /** Set when editing ends: the focus goes back to the Rename button once it is rendered again. */
  const refocus = useRef(false);
  useEffect(() => {
    if (editing) input.current?.select();
    else if (refocus.current) {
      refocus.current = false;
      rename.current?.focus();
    }
  }, [editing]);
  const stop = () => {
    refocus.current = true;
    setEditing(false);
  };
  const save = () => {
    const next = input.current?.value.trim() ?? '';
    if (busy) return;
    if (!next || next === title) return stop();
    setBusy(true);
    patch(incident, { title: next }).then(
      () => {
        setError(undefined);
        stop();
      },
      (err: Error) => setError(`Title not changed: ${err.message}`),
    ).finally(() => setBusy(false));
  };
  const onKey = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      save();
    } else if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      setError(undefined);
      stop();
    }
  };
  if (!editing) {
    return (
      <>
        <h1>{title}</h1>
        <button type="button" ref={rename} className="quiet small" onClick={() => setEditing(true)} aria-label="Rename the incident" title="Rename the incident">
          Rename
        </button>
      </>
    );
  }
  return (
    <span className="title-editor">
      <input ref={input} aria-label="Incident title" defaultValue={title} maxLength={300} onKeyDown={onKey} disabled={busy} />
      <button type="button" className="small" onClick={save} disabled={busy}>Save</button>
      <button type="button" className="quiet small" onClick={stop}>Cancel</button>
      {error && <span className="error" role="alert">{error}</span>}
    </span>
  );
}

/**
 * Severity as a select: focused (`s`), typing its digit picks it, so sev3 → sev1 is `s` `1`. The
 * arrow keys and the mouse work as on any select.
 */
export function SeverityPicker({ incident, severity }: { incident: Incident; severity: Severity }) {
  const [error, setError] = useState<string>();
  const change = (next: Severity) => {
    if (next === severity) return;
    patch(incident, { severity: next }).then(
      () => setError(undefined),
      (err: Error) => setError(`Severity not changed: ${err.message}`),
    );
  };
  const onKey = (event: KeyboardEvent<HTMLSelectElement>) => {
    const picked = Severities.find((s) => s === `sev${event.key}`);
    if (!picked || event.ctrlKey || event.metaKey || event.altKey) return;
    event.preventDefault();
    change(picked);
  };
  return (
    <>
      <select
        aria-label="Severity"
        title="Severity (s, then 1–4)"
        className={`severity-select severity-${severity}`}
        value={severity}
        onChange={(e) => change(e.target.value as Severity)}
        onKeyDown={onKey}
      >
        {Severities.map((s) => (
          <option key={s} value={s}>{s}</option>
        ))}
      </select>
      {error && <span className="error" role="alert">{error}</span>}
    </>
  );
}

/**
 * Who may see the incident: everyone, or only its members (restricted). Only its creator and admins
 * may change it; the server refuses anyone else, and this says so.
 */
export function MembersEditor({ incident, onClose }: { incident: Incident; onClose: () => void }) {
  const [users, setUsers] = useState<UserDetails[]>();
  const [me, setMe] = useState<User>();
  const [current, setCurrent] = useState<Incident>();
  const [restricted, setRestricted] = useState(false);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  /** IdP groups named as members (`group:<name>`), as typed: comma-separated names. */
  const [groups, setGroups] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    dialog.current?.showModal();
    Promise.all([
      api<UserDetails[]>('GET', '/api/users'),
      api<Incident>('GET', `/api/incidents/${encodeURIComponent(incident.id)}`),
      api<User>('GET', '/api/auth/me'),
    ]).then(
      ([u, i, self]) => {
        setUsers(u.filter((x) => !x.deactivatedAt));
        setCurrent(i);
        setMe(self);
        setRestricted(i.members !== undefined);
        // Restricting it starts with its creator and whoever restricts it: nobody locks themselves out by accident.
        setChosen(new Set((i.members ?? [i.createdBy, self.id]).filter((m) => !isGroupMember(m))));
        setGroups((i.members ?? []).filter(isGroupMember).map((m) => m.slice(GROUP_MEMBER_PREFIX.length)).join(', '));
      },
      (err: Error) => setError(err.message),
    );
  }, [incident.id]);
  const toggle = (id: string) => {
    const next = new Set(chosen);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setChosen(next);
  };
  const save = () => {
    if (busy) return;
    setBusy(true);
    const named = groups.split(',').map((g) => g.trim()).filter(Boolean).map(groupMember);
    patch(incident, { members: restricted ? [...chosen, ...named] : null }).then(onClose, (err: Error) => setError(`Members not changed: ${err.message}`)).finally(() => setBusy(false));
  };
  return (
    <dialog ref={dialog} className="members-editor card" aria-label="Who can see this incident" onClose={onClose}>
      <h2>Who can see this incident</h2>
      {!current || !users ? (
        error ? <p className="error" role="alert">{error}</p> : <p className="hint">Loading…</p>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            save();
          }}
        >
          <label className="check">
            <input type="radio" name="visibility" checked={!restricted} onChange={() => setRestricted(false)} /> Everyone signed in
          </label>
          <label className="check">
            <input type="radio" name="visibility" checked={restricted} onChange={() => setRestricted(true)} /> Only these people (restricted: it does not exist for anyone else, admins included)
          </label>
          <fieldset disabled={!restricted} className="member-choices">
            <legend>Members</legend>
            {users.map((u) => (
              <label key={u.id} className="check">
                <input type="checkbox" checked={chosen.has(u.id) || u.id === current.createdBy} disabled={u.id === current.createdBy} onChange={() => toggle(u.id)} />
                {u.name} <span className="hint">{u.role}{u.id === current.createdBy ? ', declared it' : ''}</span>
              </label>
            ))}
          </fieldset>
          <label>
            Groups from your identity provider (comma-separated): everyone in them can see it
            <input name="groups" value={groups} disabled={!restricted} onChange={(e) => setGroups(e.target.value)} placeholder="e.g. security-team" />
          </label>
          {restricted && me && !chosen.has(me.id) && me.id !== current.createdBy && (
            <p className="error">You are not among them: once saved, this incident no longer exists for you.</p>
          )}
          {error && <p className="error" role="alert">{error}</p>}
          <div className="row">
            <button type="submit" disabled={busy}>Save members</button>
            <button type="button" className="quiet" onClick={onClose}>Cancel</button>
          </div>
        </form>
      )}
    </dialog>
  );
}
