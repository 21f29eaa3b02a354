/** First run: the setup link the server printed creates the first admin and logs them in. */
import type { User } from '../../../shared/model';
import { Limits } from '../../../shared/protocol';
import { api } from '../api';
import { field, useSubmit } from '../components/form';

export function SetupPage({ onLoggedIn }: { onLoggedIn: (user: User) => void }) {
  const token = new URLSearchParams(window.location.search).get('token') ?? '';
  const { onSubmit, error, busy } = useSubmit(async (fields) => {
    const user = await api<User>('POST', '/api/auth/setup', { token, name: field(fields, 'name'), password: field(fields, 'password') });
    onLoggedIn(user);
  });
  return (
    <main className="auth">
      <form className="card" onSubmit={onSubmit}>
        <h1>Set up Bridgelog</h1>
        <p className="hint">Create the first administrator. This link works once.</p>
        <label>
          Name
          <input name="name" autoComplete="username" required autoFocus />
        </label>
        <label>
          Password <span className="hint">(at least {Limits.minPasswordChars} characters)</span>
          <input name="password" type="password" autoComplete="new-password" required minLength={Limits.minPasswordChars} />
        </label>
        {error && <p className="error" role="alert">{error}</p>}
        <button type="submit" disabled={busy || !token}>
          Create administrator
        </button>
        {!token && <p className="error" role="alert">This page needs the setup link the server printed when it started.</p>}
      </form>
    </main>
  );
}
