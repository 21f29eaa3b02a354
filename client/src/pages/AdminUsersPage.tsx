/**
 * Admin: the people who can sign in. Invite someone by link (a role, an expiry; the link shown once),
 * change a role, remove someone (their sessions and tokens end at once; their name stays in the
 * histories) or bring them back. The server refuses all of it to non-admins; this page is only linked
 * for admins.
 */
import { useCallback, useEffect, useState } from 'react';
import type { Role, User, UserDetails } from '../../../shared/api';
import type { CreatedInvite, Invite } from '../../../shared/invites';
import { Roles } from '../../../shared/model';
import { api } from '../api';
import { AdminNav } from '../components/AdminNav';
import { field, useSubmit } from '../components/form';
import { utcMinute } from '../components/time-ago';
import './AdminPages.css';

const EXPIRIES = [
  { hours: 24, label: '1 day' },
  { hours: 72, label: '3 days' },
  { hours: 168, label: '7 days' },
  { hours: 720, label: '30 days' },
];

const ROLE_HINTS: Record<Role, string> = {
  admin: 'admin — also manages users, integrations, notifications',
  responder: 'responder — runs incidents',
  viewer: 'viewer — reads only',
};

export function AdminUsersPage({ user }: { user: User }) {
  const [users, setUsers] = useState<UserDetails[]>();
  const [invites, setInvites] = useState<Invite[]>();
  const [error, setError] = useState<string>();
  const load = useCallback(() => {
    Promise.all([api<UserDetails[]>('GET', '/api/users'), api<Invite[]>('GET', '/api/invites')]).then(
      ([u, i]) => {
        setUsers(u);
        setInvites(i);
      },
      (err: Error) => setError(err.message),
    );
  }, []);
  useEffect(() => {
    if (user.role === 'admin') load();
  }, [load, user.role]);

  if (user.role !== 'admin') return <p className="notice">Only admins manage users.</p>;

  const act = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        setError(undefined);
        load();
      },
      (err: Error) => setError(err.message),
    );
  const setRole = (u: UserDetails, role: Role) => act(api('PATCH', `/api/users/${encodeURIComponent(u.id)}`, { role }));
  const setActive = (u: UserDetails, active: boolean) => {
    if (!active && !window.confirm(`Remove ${u.name}? They are signed out everywhere and their API tokens stop working. Their name stays in incident histories.`)) return;
    act(api('PATCH', `/api/users/${encodeURIComponent(u.id)}`, { active }));
  };
  const nameOf = (id: string | undefined) => users?.find((u) => u.id === id)?.name ?? id ?? '';
  const now = new Date().toISOString();
  const open = invites?.filter((i) => !i.usedAt && i.expiresAt > now) ?? [];
  const used = invites?.filter((i) => i.usedAt) ?? [];

  return (
    <div className="admin">
      <div>
        <h1>Administration</h1>
        <AdminNav />
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      <NewInvite onCreated={load} />
      <section className="card" aria-labelledby="invites-heading">
        <h2 id="invites-heading">Open invite links</h2>
        {invites === undefined ? (
          <p className="hint">Loading…</p>
        ) : open.length === 0 ? (
          <p className="hint">None open.{used.length > 0 && ` ${used.length} used.`}</p>
        ) : (
          <table>
            <thead>
              <tr><th>Role</th><th>Created by</th><th>Expires</th><th /></tr>
            </thead>
            <tbody>
              {open.map((i) => (
                <tr key={i.id} aria-label={`Invite as ${i.role}`}>
                  <td><span className="badge">{i.role}</span></td>
                  <td>{nameOf(i.createdBy)}</td>
                  <td>{utcMinute(i.expiresAt)}</td>
                  <td>
                    <button type="button" className="quiet small" onClick={() => act(api('DELETE', `/api/invites/${encodeURIComponent(i.id)}`))}>Revoke</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="card" aria-labelledby="users-heading">
        <h2 id="users-heading">Users</h2>
        {users === undefined ? (
          <p className="hint">Loading…</p>
        ) : (
          <table>
            <thead>
              <tr><th>Name</th><th>Role</th><th>Since</th><th>Joined by</th><th /></tr>
            </thead>
            <tbody>
              {users.map((u) => {
                const invitedBy = invites?.find((i) => i.usedBy === u.id)?.createdBy;
                return (
                  <tr key={u.id} className={u.deactivatedAt ? 'removed' : undefined} aria-label={u.name}>
                    <td>
                      {u.name}
                      {u.id === user.id && <span className="hint"> (you)</span>}
                    </td>
                    <td>
                      {u.deactivatedAt ? (
                        <span className="badge">removed {utcMinute(u.deactivatedAt)}</span>
                      ) : (
                        <select aria-label={`Role of ${u.name}`} value={u.role} onChange={(e) => void setRole(u, e.target.value as Role)}>
                          {Roles.map((r) => <option key={r} value={r}>{r}</option>)}
                        </select>
                      )}
                    </td>
                    <td>{utcMinute(u.createdAt)}</td>
                    <td className="hint">{invitedBy ? `invite from ${nameOf(invitedBy)}` : ''}</td>
                    <td>
                      {u.deactivatedAt ? (
                        <button type="button" className="quiet small" onClick={() => setActive(u, true)}>Restore {u.name}</button>
                      ) : (
                        <button type="button" className="quiet small" onClick={() => setActive(u, false)}>Remove {u.name}</button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}

/** Makes an invite link and shows it this once, ready to copy. */
function NewInvite({ onCreated }: { onCreated: () => void }) {
  const [created, setCreated] = useState<CreatedInvite>();
  const [copied, setCopied] = useState(false);
  const { onSubmit, error, busy } = useSubmit(async (fields) => {
    const invite = await api<CreatedInvite>('POST', '/api/invites', { role: field(fields, 'role'), expiresInHours: Number(field(fields, 'expires')) });
    setCreated(invite);
    setCopied(false);
    onCreated();
  });
  const link = created && `${window.location.origin}${created.path}`;
  const copy = () => {
    if (!link) return;
    navigator.clipboard?.writeText(link).then(() => setCopied(true), () => setCopied(false));
  };
  return (
    <section className="card" aria-labelledby="invite-heading">
      <h2 id="invite-heading">Invite someone</h2>
      <form className="row" onSubmit={onSubmit} aria-label="New invite">
        <label>
          Role
          <select name="role" defaultValue="responder">
            {Roles.map((r) => <option key={r} value={r}>{ROLE_HINTS[r]}</option>)}
          </select>
        </label>
        <label>
          Link works for
          <select name="expires" defaultValue="72">
            {EXPIRIES.map((e) => <option key={e.hours} value={e.hours}>{e.label}</option>)}
          </select>
        </label>
        <button type="submit" disabled={busy}>Create invite link</button>
      </form>
      {error && <p className="error" role="alert">{error}</p>}
      {created && link && (
        <div className="banner created-secret" role="status">
          <p>
            <strong>Invite link for a {created.role}</strong>, shown this once. It works once, until {utcMinute(created.expiresAt)}. Send it to the person you invite: they choose their name and password.
          </p>
          <code className="secret-link" data-testid="invite-link">{link}</code>
          <div className="actions">
            <button type="button" className="quiet small" onClick={copy}>{copied ? 'Copied' : 'Copy link'}</button>
            <button type="button" className="quiet small" onClick={() => setCreated(undefined)}>Done</button>
          </div>
        </div>
      )}
    </section>
  );
}
