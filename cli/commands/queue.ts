/**
 * `bridgelog queue` lists the entries waiting on this machine and why; `bridgelog queue send`
 * delivers them now; `bridgelog queue drop ID` gives one up.
 */
import { parseOptions } from '../args.js';
import { requireServer, type Settings } from '../config.js';
import { deliverQueued } from '../delivery.js';
import { EntryQueue } from '../entry-queue.js';
import { EXIT_QUEUED, UsageError } from '../errors.js';
import { say } from '../say.js';
import { BridgelogApi } from '../server-api.js';

export async function queue(args: string[], settings: Settings): Promise<number> {
  const { positionals } = parseOptions({ args, options: {}, allowPositionals: true });
  const [action = 'list', id] = positionals;
  const entries = new EntryQueue(settings.home);
  if (action === 'list' && !id) {
    const items = entries.list();
    if (items.length === 0) say(`nothing waiting in ${entries.dir}`);
    for (const { entry } of items) {
      console.log(`${entry.entryId}  ${new Date(entry.localRanAt).toISOString()}  ${entry.server}  incident ${entry.incidentId}  ${entry.title}`);
      if (entry.lastError) console.log(`    last attempt: ${entry.lastError}`);
    }
    return 0;
  }
  if (action === 'send' && !id) {
    const api = new BridgelogApi(requireServer(settings));
    await deliverQueued(api, entries);
    const left = entries.list().filter((i) => i.entry.server === api.url).length;
    return left === 0 ? 0 : EXIT_QUEUED;
  }
  if (action === 'drop' && id) {
    const dropped = entries.drop(id);
    say(`dropped ${dropped.entryId}: ${dropped.title}`);
    return 0;
  }
  throw new UsageError('usage: bridgelog queue [list | send | drop ID]');
}
