/** Pages live at real paths (the server answers every page path with index.html); the History API moves between them. */
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

export type Route =
  | { page: 'setup' }
  | { page: 'login' }
  | { page: 'incidents' }
  | { page: 'trends' }
  | { page: 'search' }
  | { page: 'notifications' }
  | { page: 'admin-users' }
  | { page: 'admin-integrations' }
  | { page: 'invite'; token: string }
  | { page: 'tokens' }
  | { page: 'device' }
  | { page: 'incident'; incidentId: string }
  | { page: 'not-found' };

export function routeOf(path: string): Route {
  if (path === '/setup') return { page: 'setup' };
  if (path === '/login') return { page: 'login' };
  if (path === '/') return { page: 'incidents' };
  if (path === '/trends') return { page: 'trends' };
  if (path === '/search') return { page: 'search' };
  if (path === '/notifications') return { page: 'notifications' };
  if (path === '/admin' || path === '/admin/users') return { page: 'admin-users' };
  if (path === '/admin/integrations') return { page: 'admin-integrations' };
  if (path === '/tokens') return { page: 'tokens' };
  if (path === '/device') return { page: 'device' };
  const invite = /^\/invite\/([A-Za-z0-9_-]+)$/.exec(path);
  if (invite) return { page: 'invite', token: invite[1]! };
  const incident = /^\/incidents\/([^/]+)$/.exec(path);
  if (incident) {
    try {
      return { page: 'incident', incidentId: decodeURIComponent(incident[1]!) };
    } catch {
      return { page: 'not-found' };
    }
  }
  return { page: 'not-found' };
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  return () => window.removeEventListener('popstate', onChange);
}

export function usePath(): string {
  return useSyncExternalStore(subscribe, () => window.location.pathname);
}

/** The query string (`?status=resolved&…`): the overview and trends keep their filters there, so a view can be shared. */
export function useSearch(): string {
  return useSyncExternalStore(subscribe, () => window.location.search);
}

export function navigate(to: string, { replace = false } = {}): void {
  if (replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

/** An ordinary link that moves without reloading; modified clicks (new tab, …) stay the browser's. */
export function Link({ to, ...props }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={onClick} {...props} />;
}
