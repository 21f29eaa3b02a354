import { useState } from 'react';
import type { User } from '../../../shared/model';
import { api } from '../api';
import { forgetRemembered } from '../offline';
import { Link, usePath } from '../router';
import { useStore } from '../store';
import { theme, toggleTheme } from '../theme';
import './AppNav.css';

export function AppHeader({ user, onLoggedOut }: { user: User; onLoggedOut: () => void }) {
  const [error, setError] = useState<string>();
  const current = useStore(theme);
  const path = usePath();
  const loggedOut = () => {
    forgetRemembered();
    onLoggedOut();
  };
  // Signed in through the identity provider: its session ends too, on its own page, which then comes back to /login.
  const logOut = () =>
    api<{ endSessionUrl?: string } | undefined>('POST', '/api/auth/logout').then((answer) => {
      loggedOut();
      if (answer?.endSessionUrl) window.location.assign(answer.endSessionUrl);
    }, (err: Error) => setError(err.message));
  return (
    <header className="app-header">
      <Link to="/" className="brand">
        Bridgelog
      </Link>
      <nav className="app-nav" aria-label="Pages">
        <Link to="/" aria-current={path === '/' ? 'page' : undefined}>
          Incidents
        </Link>
        <Link to="/trends" aria-current={path === '/trends' ? 'page' : undefined}>
          Trends
        </Link>
        {user.role === 'admin' && (
          <Link to="/admin/users" aria-current={path.startsWith('/admin') || path === '/notifications' ? 'page' : undefined}>
            Admin
          </Link>
        )}
      </nav>
      <span className="who" data-testid="current-user">
        {user.name} <span className="role">{user.role}</span>
      </span>
      <Link to="/tokens" className="header-link" aria-current={path === '/tokens' ? 'page' : undefined}>
        Tokens
      </Link>
      <button type="button" className="quiet" onClick={toggleTheme} aria-label={`Switch to the ${current === 'dark' ? 'light' : 'dark'} theme`} title="Switch theme (t)">
        {current === 'dark' ? '☀' : '☾'}
      </button>
      <button type="button" className="quiet" onClick={logOut}>
        Log out
      </button>
      {error && <p className="error" role="alert">Could not log out: {error}</p>}
    </header>
  );
}
