/** An invite link opened: the invitee chooses a name and password and is signed in with the invite's role. */
import { useEffect, useState } from 'react';
import type { User } from '../../../shared/model';
import type { InvitePreview } from '../../../shared/invites';
import { Limits } from '../../../shared/protocol';
import { api } from '../api';
import { field, useSubmit } from '../components/form';
import { utcMinute } from '../components/time-ago';

export function InvitePage({ token, onLoggedIn }: { token: string; onLoggedIn: (user: User) => void }) {
  const [preview, setPreview] = useState<InvitePreview>();
  const [refused, setRefused] = useState<string>();
  useEffect(() => {
    api<InvitePreview>('POST', '/api/invites/preview', { token }).then(setPreview, (err: Error) => setRefused(err.message));
  }, [token]);
  const { onSubmit, error, busy } = useSubmit(async (fields) => {
    const password = field(fields, 'password');
    if (password !== field(fields, 'again')) throw new Error('the two passwords differ');
    onLoggedIn(await api<User>('POST', '/api/invites/accept', { token, name: field(fields, 'name'), password }));
  });
  return (
    <main className="auth">
      <form className="card" onSubmit={onSubmit} aria-label="Join Bridgelog">
        <h1>Join Bridgelog</h1>
        {refused ? (
          <p className="error" role="alert">{refused}</p>
        ) : !preview ? (
          <p className="hint">Checking the invite…</p>
        ) : (
          <>
            <p className="hint">
              You are invited as a <strong>{preview.role}</strong>. Choose your name and password; this link works once, until {utcMinute(preview.expiresAt)}.
            </p>
            <label>
              Name <span className="hint">(letters, digits and . _ @ -)</span>
              <input name="name" autoComplete="username" required autoFocus maxLength={Limits.maxNameChars} />
            </label>
            <label>
              Password <span className="hint">(at least {Limits.minPasswordChars} characters)</span>
              <input name="password" type="password" autoComplete="new-password" required minLength={Limits.minPasswordChars} />
            </label>
            <label>
              Password again
              <input name="again" type="password" autoComplete="new-password" required minLength={Limits.minPasswordChars} />
            </label>
            {error && <p className="error" role="alert">{error}</p>}
            <button type="submit" disabled={busy}>Join as {preview.role}</button>
          </>
        )}
        <p className="hint"><a href="/login">I have an account: log in</a></p>
      </form>
    </main>
  );
}
