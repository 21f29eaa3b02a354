/**
 * `bridgelog search "…"`: search every incident the token can see (or one: `--incident`, `--here`),
 * as the web app's search page does (`GET /api/search`, or POST for a query too long for a URL).
 * `--json` prints the API's answer; `--rebuild` (admins) reads every incident into the index again.
 */
import type { SearchAnswer, SearchResult } from '../../shared/search.js';
import { parseOptions } from '../args.js';
import { requireServer, type Settings } from '../config.js';
import { UsageError } from '../errors.js';
import { say } from '../say.js';
import { BridgelogApi } from '../server-api.js';

const USAGE = 'usage: bridgelog search "words \\"a phrase\\" -excluded severity:sev1 status:resolved site:ny" [--incident ID | --here] [-n N] [--json]\n       bridgelog search --rebuild';

/** The snippet with its matches bold on a terminal, as they are elsewhere. */
function marked(r: SearchResult, tty: boolean): string {
  if (!tty) return r.snippet;
  let out = '';
  let at = 0;
  for (const [s, e] of r.highlights) {
    out += r.snippet.slice(at, s) + `\x1b[1m${r.snippet.slice(s, e)}\x1b[22m`;
    at = e;
  }
  return out + r.snippet.slice(at);
}

/** Control characters from stored text never reach the terminal as such. */
const printable = (s: string) => s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');

export async function search(args: string[], settings: Settings): Promise<number> {
  const { values, positionals } = parseOptions({
    args,
    options: {
      incident: { type: 'string', short: 'i' },
      here: { type: 'boolean' },
      limit: { type: 'string', short: 'n' },
      json: { type: 'boolean' },
      rebuild: { type: 'boolean' },
    },
    allowPositionals: true,
  });
  const api = new BridgelogApi(requireServer(settings));
  if (values.rebuild) {
    if (positionals.length) throw new UsageError(USAGE);
    const res = await api.check(await api.fetch('/api/search/rebuild', { method: 'POST', timeoutMs: null }));
    const { incidents, ms } = (await res.json()) as { incidents: number; ms: number };
    console.log(`read ${incidents} incidents into the search index in ${(ms / 1000).toFixed(1)} s`);
    return 0;
  }
  const q = positionals.join(' ').trim();
  if (!q) throw new UsageError(USAGE);
  const incident = values.incident ?? (values.here ? settings.incident : undefined);
  if (values.here && !incident) throw new UsageError('--here: no current incident (bridgelog use ID, or BRIDGELOG_INCIDENT)');
  const body: Record<string, unknown> = { q, ...(incident ? { incident } : {}), ...(values.limit ? { limit: values.limit } : {}) };
  const res = await api.check(
    await api.fetch('/api/search', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    incident ? `incident ${incident}` : undefined,
  );
  const answer = (await res.json()) as SearchAnswer;
  if (values.json) {
    console.log(JSON.stringify(answer, null, 2));
    return 0;
  }
  const tty = Boolean(process.stdout.isTTY);
  for (const r of answer.results) {
    const when = `${r.at.slice(0, 16).replace('T', ' ')}Z`;
    console.log(`${when}  ${printable(r.incidentTitle)} (${r.incidentSeverity}, ${r.incidentStatus})  ${r.kind}: ${printable(r.title)}`);
    if (r.snippet && r.snippet !== r.title) console.log(`    ${printable(marked(r, tty))}`);
    if (r.conclusion) console.log(`    concluded: ${printable(r.conclusion.replace(/\s+/g, ' '))}`);
    else if (r.incidentConclusion) console.log(`    incident concluded: ${printable(r.incidentConclusion.replace(/\s+/g, ' '))}`);
    const anchor = r.entryId ? `#entry-${encodeURIComponent(r.entryId)}` : r.hypothesisId ? `#hypothesis-${encodeURIComponent(r.hypothesisId)}` : '';
    console.log(`    ${api.url}/incidents/${encodeURIComponent(r.incidentId)}${anchor}`);
  }
  say(`${answer.results.length} of ${answer.total} result${answer.total === 1 ? '' : 's'}${answer.indexing ? ' (the server is still indexing: some may be missing)' : ''}`);
  return 0;
}
