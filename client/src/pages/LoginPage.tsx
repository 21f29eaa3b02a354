import type { User } from '../../../shared/model';
import { ApiFailure, api } from '../api';
import { field, useSubmit } from '../components/form';

export function LoginPage({ onLoggedIn }: { onLoggedIn: (user: User) => void }) {
  const { onSubmit, error, busy } = useSubmit(async (fields) => {
    try {
      onLoggedIn(await api<User>('POST', '/api/auth/login', { name: field(fields, 'name'), password: field(fields, 'password') }));
    } catch (err) {
      throw err instanceof ApiFailure && err.status === 401 ? new Error('wrong name or password') : err;
    }
  });
  return (
    <main className="auth">
      <form className="card" onSubmit={onSubmit}>
        <h1>Log in to Bridgelog</h1>
        <label>
          Name
          <input name="name" autoComplete="username" required autoFocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        {error && <p className="error" role="alert">{error}</p>}
        <button type="submit" disabled={busy}>
          Log in
        </button>
      </form>
    </main>
  );
}
