/**
 * `bridgelog tail [--incident ID] [-n N]`: the last N entries, then every new one as it appears,
 * with who logged it (from the server's history, never from the document). Ctrl-C stops.
 */
import * as Y from 'yjs';
import { entriesOf, getEntry, listEntries, readMeta, type Entry } from '../../shared/schema/doc.js';
import { parseOptions } from '../args.js';
import { requireIncident, requireServer, type Settings } from '../config.js';
import { deliverQueued } from '../delivery.js';
import { EntryQueue } from '../entry-queue.js';
import { UsageError } from '../errors.js';
import { connectToIncident, refusalFor } from '../incident-socket.js';
import { say } from '../say.js';
import { BridgelogApi } from '../server-api.js';

export async function tail(args: string[], settings: Settings): Promise<number> {
  const { values } = parseOptions({
    args,
    options: { incident: { type: 'string', short: 'i' }, lines: { type: 'string', short: 'n', default: '10' } },
    allowPositionals: false,
  });
  const lines = Number(values.lines);
  if (!Number.isInteger(lines) || lines < 0) throw new UsageError('--lines: expected a number of entries, e.g. -n 20');
  const api = new BridgelogApi(requireServer(settings));
  const incidentId = requireIncident(settings, values.incident);
  await deliverQueued(api, new EntryQueue(settings.home));
  await api.incident(incidentId); // a clear "no such incident" or "wrong token" before following anything

  const doc = new Y.Doc();
  const provider = connectToIncident(api, incidentId, doc);
  const authors = new EntryAuthors(api, incidentId);
  let printing = Promise.resolve();
  const show = (ids: string[]) => {
    printing = printing.then(async () => {
      await authors.lookUp(ids);
      const entries = ids.map((id) => getEntry(doc, id)).filter((e): e is Entry => e !== undefined);
      for (const entry of entries.sort((a, b) => a.ranAt.localeCompare(b.ranAt))) console.log(format(entry, authors.name(entry.id)));
    });
  };

  return new Promise<number>((resolve, reject) => {
    const stop = (outcome: number | Error) => {
      process.off('SIGINT', interrupted);
      provider.destroy();
      doc.destroy();
      void printing.then(() => (outcome instanceof Error ? reject(outcome) : resolve(outcome)));
    };
    const interrupted = () => stop(0);
    process.on('SIGINT', interrupted);
    let lost = false;
    provider.on('status', ({ status }) => {
      if (status === 'disconnected' && !lost) say('connection lost; reconnecting…');
      else if (status === 'connected' && lost) say('reconnected');
      if (status !== 'connecting') lost = status === 'disconnected';
    });
    provider.on('connection-close', (event) => {
      const refusal = event ? refusalFor(event.code, incidentId) : undefined;
      if (refusal) stop(refusal);
    });
    provider.once('sync', () => {
      say(`following ${readMeta(doc).title ?? incidentId} (Ctrl-C to stop)`);
      show(lines === 0 ? [] : listEntries(doc).slice(-lines).map((e) => e.id));
      entriesOf(doc).observe((event) => {
        const added = [...event.changes.keys].filter(([, change]) => change.action === 'add').map(([id]) => id);
        if (added.length > 0) show(added);
      });
    });
  });
}

/** `2026-03-04 06:20:00Z  test        iperf3 to db01  (alice)`, and how to repeat it below. */
function format(entry: Entry, author: string | undefined): string {
  const when = entry.ranAt ? entry.ranAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '(no time)           ';
  const by = author ? `  (${author})` : '';
  const command = entry.command ? `\n    $ ${entry.command.split('\n').join('\n      ')}` : '';
  return `${when}  ${entry.kind.padEnd(10)}  ${entry.title}${by}${command}`;
}

/** Who created each entry, from GET /authors, asking only for what changed since the last answer. */
class EntryAuthors {
  private names = new Map<string, string>();
  private seq = 0;

  constructor(
    private readonly api: BridgelogApi,
    private readonly incidentId: string,
  ) {}

  name(entryId: string): string | undefined {
    return this.names.get(entryId);
  }

  /** Entries reach us after they are on the server's disk, so one look (and one retry) is enough. */
  async lookUp(ids: string[]): Promise<void> {
    for (let attempt = 0; attempt < 2 && ids.some((id) => !this.names.has(id)); attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 300));
      try {
        const answer = await this.api.authors(this.incidentId, this.seq);
        this.seq = answer.seq;
        for (const [id, a] of Object.entries(answer.entries)) this.names.set(id, a.createdBy.name);
      } catch {
        return; // the entries are shown without an author rather than not at all
      }
    }
  }
}
