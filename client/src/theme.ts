/**
 * Dark or light: the system's choice unless the user picked one here (kept in this browser).
 * The choice is on <html data-theme>, which style.css reads.
 */
import { Store } from './store';

export type Theme = 'dark' | 'light';
const KEY = 'bridgelog:theme';
const prefersLight = window.matchMedia('(prefers-color-scheme: light)');

const chosen = (): Theme | undefined => {
  const saved = localStorage.getItem(KEY);
  return saved === 'dark' || saved === 'light' ? saved : undefined;
};

export const theme = new Store<Theme>(chosen() ?? (prefersLight.matches ? 'light' : 'dark'));

function apply(): void {
  document.documentElement.dataset.theme = theme.get();
}

export function toggleTheme(): void {
  const next = theme.get() === 'dark' ? 'light' : 'dark';
  localStorage.setItem(KEY, next);
  theme.set(next);
}

theme.subscribe(apply);
prefersLight.addEventListener('change', () => {
  if (!chosen()) theme.set(prefersLight.matches ? 'light' : 'dark');
});
apply();
