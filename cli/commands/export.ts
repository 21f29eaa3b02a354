/**
 * `bridgelog export [ID] --format md > report.md`: the server's export when it has the route; for
 * Markdown, a report built here from the document when it does not (404 on a visible incident).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import { parseOptions } from '../args.js';
import { requireIncident, requireServer, type Settings } from '../config.js';
import { deliverQueued } from '../delivery.js';
import { EntryQueue } from '../entry-queue.js';
import { ServerRefused, UsageError } from '../errors.js';
import { markdownReport } from '../markdown-export.js';
import { BridgelogApi } from '../server-api.js';

const FORMATS = ['md', 'html', 'json', 'zip'];

export async function exportIncident(args: string[], settings: Settings): Promise<number> {
  const { values, positionals } = parseOptions({
    args,
    options: { format: { type: 'string', short: 'f', default: 'md' }, incident: { type: 'string', short: 'i' } },
    allowPositionals: true,
  });
  if (positionals.length > 1) throw new UsageError('usage: bridgelog export [ID] --format md');
  if (!FORMATS.includes(values.format)) throw new UsageError(`--format: expected one of ${FORMATS.join(', ')}`);
  const api = new BridgelogApi(requireServer(settings));
  const incidentId = requireIncident(settings, positionals[0] ?? values.incident);
  await deliverQueued(api, new EntryQueue(settings.home));

  const res = await api.fetch(`/api/incidents/${encodeURIComponent(incidentId)}/export?format=${values.format}`, { timeoutMs: null });
  if (res.status === 404) {
    await res.body?.cancel();
    await api.incident(incidentId); // the incident's own 404 says "no such incident"
    if (values.format !== 'md') throw new ServerRefused(`${api.url} cannot export as ${values.format} (no export route); --format md works`);
    process.stdout.write(await markdownReport(api, incidentId));
    return 0;
  }
  await api.check(res, `incident ${incidentId}`);
  await pipeline(Readable.fromWeb(res.body as ReadableStream<Uint8Array>), process.stdout, { end: false });
  return 0;
}
