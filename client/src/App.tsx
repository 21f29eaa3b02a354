/** Who is logged in decides which pages can be seen; the path decides which one is. */
import { useEffect, useState } from 'react';
import type { User } from '../../shared/model';
import { ApiFailure } from './api';
import { AppHeader } from './components/AppHeader';
import { getRemembered } from './offline';
import { AdminIntegrationsPage } from './pages/AdminIntegrationsPage';
import { AdminUsersPage } from './pages/AdminUsersPage';
import { IncidentListPage } from './pages/IncidentListPage';
import { IncidentPage } from './pages/IncidentPage';
import { InvitePage } from './pages/InvitePage';
import { LoginPage, returnToOfLocation } from './pages/LoginPage';
import { DevicePage } from './pages/DevicePage';
import { TokensPage } from './pages/TokensPage';
import { NotificationsPage } from './pages/NotificationsPage';
import { SearchPage } from './pages/SearchPage';
import { SetupPage } from './pages/SetupPage';
import { TrendsPage } from './pages/TrendsPage';
import { navigate, routeOf, usePath } from './router';

export function App() {
  const route = routeOf(usePath());
  /** `undefined` until the server has said; `null` when nobody is logged in. */
  const [user, setUser] = useState<User | null>();
  const [unreachable, setUnreachable] = useState<string>();

  useEffect(() => {
    if (user !== undefined || route.page === 'setup' || route.page === 'invite') return;
    let current = true;
    getRemembered<User>('/api/auth/me').then(
      (me) => {
        if (current) setUser(me);
      },
      (err: Error) => {
        if (!current) return;
        if (err instanceof ApiFailure && err.status === 401) setUser(null);
        else setUnreachable(err.message);
      },
    );
    return () => {
      current = false;
    };
  }, [user, route.page]);

  useEffect(() => {
    // Back where they were going once signed in (e.g. `/device?code=…` from `bridgelog login`).
    const here = window.location.pathname + window.location.search;
    if (user === null && route.page !== 'login' && route.page !== 'setup' && route.page !== 'invite') navigate(here === '/' ? '/login' : `/login?returnTo=${encodeURIComponent(here)}`, { replace: true });
    if (user && route.page === 'login') navigate(returnToOfLocation(), { replace: true });
  }, [user, route.page]);

  const loggedIn = (me: User) => {
    const to = route.page === 'login' ? returnToOfLocation() : '/';
    setUser(me);
    navigate(to);
  };

  if (route.page === 'setup') return <SetupPage onLoggedIn={loggedIn} />;
  if (route.page === 'login') return <LoginPage onLoggedIn={loggedIn} />;
  if (route.page === 'invite') return <InvitePage token={route.token} onLoggedIn={loggedIn} />;
  if (unreachable) return <p className="notice" role="alert">Cannot reach Bridgelog: {unreachable}</p>;
  if (!user) return <p className="notice">Loading…</p>;
  return (
    <>
      <AppHeader user={user} onLoggedOut={() => setUser(null)} />
      <main className={route.page === 'incident' ? 'wide' : undefined}>
        {route.page === 'incidents' && <IncidentListPage user={user} />}
        {route.page === 'trends' && <TrendsPage />}
        {route.page === 'search' && <SearchPage />}
        {route.page === 'notifications' && <NotificationsPage user={user} />}
        {route.page === 'admin-users' && <AdminUsersPage user={user} />}
        {route.page === 'admin-integrations' && <AdminIntegrationsPage user={user} />}
        {route.page === 'incident' && <IncidentPage key={route.incidentId} incidentId={route.incidentId} user={user} />}
        {route.page === 'tokens' && <TokensPage user={user} />}
        {route.page === 'device' && <DevicePage user={user} />}
        {route.page === 'not-found' && <p className="notice">There is no page here.</p>}
      </main>
    </>
  );
}
