/**
 * What it takes to open a page with no network: the service worker keeps the app's own files
 * (public/sw.js), and the last answers to the few GETs a page needs before it can show an
 * incident are kept here. The incident's document itself is in IndexedDB (collab/incident-session.ts).
 */
import { api, ApiFailure } from './api';

const PREFIX = 'bridgelog:remembered:';

/** GETs `path`; when the network is down (not when the server says no), answers what it said last time. */
export async function getRemembered<T>(path: string): Promise<T> {
  try {
    const answer = await api<T>('GET', path);
    localStorage.setItem(PREFIX + path, JSON.stringify(answer));
    return answer;
  } catch (err) {
    const kept = err instanceof ApiFailure ? null : localStorage.getItem(PREFIX + path);
    if (kept === null) throw err;
    return JSON.parse(kept) as T;
  }
}

/** Forgets one answer: an incident no longer shared with this user must not open from here either. */
export function forgetOne(path: string): void {
  localStorage.removeItem(PREFIX + path);
}

/** On logging out: the next person at this browser gets nothing of this one's from here. */
export function forgetRemembered(): void {
  for (const key of Object.keys(localStorage)) if (key.startsWith(PREFIX)) localStorage.removeItem(key);
}

export function keepAppForOffline(): void {
  // Service workers need a secure context (https, or http on localhost): elsewhere pages need the network.
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/sw.js').catch((err: Error) => console.warn('offline reload unavailable:', err.message));
  }
}
