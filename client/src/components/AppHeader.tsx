import { useState } from 'react';
import type { User } from '../../../shared/model';
import { api } from '../api';
import { Link } from '../router';

export function AppHeader({ user, onLoggedOut }: { user: User; onLoggedOut: () => void }) {
  const [error, setError] = useState<string>();
  const logOut = () => api('POST', '/api/auth/logout').then(onLoggedOut, (err: Error) => setError(err.message));
  return (
    <header className="app-header">
      <Link to="/" className="brand">
        Bridgelog
      </Link>
      <span className="who" data-testid="current-user">
        {user.name} <span className="role">{user.role}</span>
      </span>
      <button type="button" className="quiet" onClick={logOut}>
        Log out
      </button>
      {error && <p className="error" role="alert">Could not log out: {error}</p>}
    </header>
  );
}
