/**
 * The search page's filter controls write their filter into the query's own text
 * (`packet loss severity:sev1,sev2 from:2026-10-01`), so the query in the box and in the URL is the
 * whole search, as it would be typed or given to `bridgelog search`.
 */
export type FilterName = 'severity' | 'status' | 'from' | 'to';

/** The names a filter may be written with (`sev:` is `severity:`). */
const SPELLINGS: Record<FilterName, string[]> = { severity: ['severity', 'sev'], status: ['status'], from: ['from'], to: ['to'] };

/** The query with `name:` set to `value` (replacing any there), or taken out when `value` is empty. */
export function withFilter(query: string, name: FilterName, value: string | undefined): string {
  const pattern = new RegExp(`(^|\\s+)-?(?:${SPELLINGS[name].join('|')}):(?:"[^"]*"?|\\S*)`, 'gi');
  const rest = query.replace(pattern, '').trim();
  return value ? `${rest} ${name}:${value}`.trim() : rest;
}
