/**
 * Personal API tokens (scripts, the CLI): each user names and creates theirs — the secret is shown
 * this once — sees when each was created and last used, and revokes them. Admins also see and revoke
 * everyone's (`/api/admin/tokens`). `bridgelog login` makes one through the browser by itself.
 */
import { useCallback, useEffect, useState } from 'react';
import type { ApiToken, CreatedApiToken, User } from '../../../shared/model';
import { api } from '../api';
import { field, useSubmit } from '../components/form';
import { formatUtc } from '../time';
import './SignIn.css';

interface AnyonesToken extends ApiToken {
  userId: string;
  userName: string;
}

export function TokensPage({ user }: { user: User }) {
  const [mine, setMine] = useState<ApiToken[]>();
  const [everyones, setEveryones] = useState<AnyonesToken[]>();
  const [created, setCreated] = useState<CreatedApiToken>();
  const [error, setError] = useState<string>();
  const load = useCallback(() => {
    api<ApiToken[]>('GET', '/api/tokens').then(setMine, (err: Error) => setError(err.message));
    if (user.role === 'admin') api<AnyonesToken[]>('GET', '/api/admin/tokens').then(setEveryones, (err: Error) => setError(err.message));
  }, [user.role]);
  useEffect(load, [load]);

  const { onSubmit, error: createError, busy } = useSubmit(async (fields, form) => {
    setCreated(await api<CreatedApiToken>('POST', '/api/tokens', { name: field(fields, 'name') }));
    form.reset();
    load();
  });
  const revoke = (token: ApiToken, path: string) => {
    if (!window.confirm(`Revoke “${token.name}”? Scripts and CLIs using it stop at once.`)) return;
    api('DELETE', path).then(load, (err: Error) => setError(err.message));
  };

  return (
    <section className="tokens-page" aria-labelledby="tokens-title">
      <h1 id="tokens-title">Your API tokens</h1>
      <p>For scripts and the <code>bridgelog</code> CLI (<code>bridgelog login</code> makes one for you). A token acts as you, with your role.</p>
      <form className="new-token" onSubmit={onSubmit} aria-label="New token">
        <label>
          Name
          <input name="name" required maxLength={100} placeholder="e.g. laptop CLI, nightly export" />
        </label>
        <button type="submit" disabled={busy}>Create token</button>
      </form>
      {createError && <p className="error" role="alert">{createError}</p>}
      {created && (
        <div className="token-secret" role="status">
          <strong>Copy “{created.name}” now: it is shown only this once.</strong>
          <code data-testid="new-token">{created.token}</code>
          <button type="button" className="quiet" onClick={() => void navigator.clipboard?.writeText(created.token)}>Copy</button>
        </div>
      )}
      {error && <p className="error" role="alert">{error}</p>}
      <TokenTable tokens={mine} label="Your tokens" onRevoke={(t) => revoke(t, `/api/tokens/${t.id}`)} />
      {everyones && (
        <>
          <h2>Everyone's tokens</h2>
          <TokenTable tokens={everyones} label="Everyone's tokens" showUser onRevoke={(t) => revoke(t, `/api/admin/tokens/${t.id}`)} />
        </>
      )}
    </section>
  );
}

function TokenTable<T extends ApiToken & { userName?: string }>({ tokens, label, showUser, onRevoke }: { tokens?: T[]; label: string; showUser?: boolean; onRevoke: (t: T) => void }) {
  if (!tokens) return <p className="empty">Loading…</p>;
  if (tokens.length === 0) return <p className="empty">No tokens.</p>;
  return (
    <table aria-label={label}>
      <thead>
        <tr>
          {showUser && <th>User</th>}
          <th>Name</th>
          <th className="created">Created (UTC)</th>
          <th className="used">Last used (UTC)</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {tokens.map((t) => (
          <tr key={t.id}>
            {showUser && <td>{t.userName}</td>}
            <td>{t.name}</td>
            <td className="created"><time dateTime={t.createdAt}>{formatUtc(t.createdAt)}</time></td>
            <td className="used">{t.lastUsedAt ? <time dateTime={t.lastUsedAt}>{formatUtc(t.lastUsedAt)}</time> : 'never'}</td>
            <td>
              <button type="button" className="quiet" onClick={() => onRevoke(t)} aria-label={`Revoke ${t.name}`}>Revoke</button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
