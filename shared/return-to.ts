/**
 * Where to go after signing in: a path on this server only. Refused (undefined): absolute URLs,
 * protocol-relative ones (`//evil.example`), backslashes (`/\evil.example`, which browsers read as
 * `//`), and control characters. Shared by the server (the IdP sign-in) and the web app (its login page).
 */
export function safeReturnTo(value: string): string | undefined {
  if (!value.startsWith('/') || value.startsWith('//')) return undefined;
  if (/[\\\u0000-\u001f\u007f]/.test(value)) return undefined;
  // Resolved against a throwaway origin: anything that leaves it was not a plain path.
  const url = new URL(value, 'http://bridgelog.invalid');
  if (url.origin !== 'http://bridgelog.invalid') return undefined;
  return url.pathname + url.search + url.hash;
}
