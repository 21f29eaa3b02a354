/** `bridgelog incidents` lists what the token can see; `bridgelog use ID` makes one the current incident. */
import { parseOptions } from '../args.js';
import { requireServer, updateConfigFile, type Settings } from '../config.js';
import { deliverQueued } from '../delivery.js';
import { EntryQueue } from '../entry-queue.js';
import { ServerUnreachable, UsageError } from '../errors.js';
import { say } from '../say.js';
import { BridgelogApi } from '../server-api.js';

export async function incidents(args: string[], settings: Settings): Promise<number> {
  parseOptions({ args, options: {}, allowPositionals: false });
  const api = new BridgelogApi(requireServer(settings));
  await deliverQueued(api, new EntryQueue(settings.home));
  const list = await api.incidents();
  if (list.length === 0) {
    say('no incidents yet (or none you are a member of)');
    return 0;
  }
  const idWidth = Math.max(...list.map((i) => i.id.length));
  for (const i of list) {
    const current = i.id === settings.incident ? '*' : ' ';
    console.log(`${current} ${i.id.padEnd(idWidth)}  ${i.severity}  ${i.status.padEnd(13)}  ${i.createdAt.slice(0, 16).replace('T', ' ')}Z  ${i.title}`);
  }
  return 0;
}

export async function use(args: string[], settings: Settings): Promise<number> {
  const { positionals } = parseOptions({ args, options: {}, allowPositionals: true });
  const [id, ...extra] = positionals;
  if (!id || extra.length > 0) throw new UsageError('usage: bridgelog use ID (see `bridgelog incidents`)');
  const api = new BridgelogApi(requireServer(settings));
  try {
    await deliverQueued(api, new EntryQueue(settings.home));
    const incident = await api.incident(id);
    updateConfigFile(settings.home, { incident: id });
    console.log(`current incident: ${id} (${incident.title})`);
  } catch (err) {
    // During an outage of Bridgelog itself one can still pick the incident and queue entries for it.
    if (!(err instanceof ServerUnreachable)) throw err;
    updateConfigFile(settings.home, { incident: id });
    console.log(`current incident: ${id}`);
    say(`could not check that it exists: ${err.message}`);
  }
  const fromEnv = process.env.BRIDGELOG_INCIDENT;
  if (fromEnv && fromEnv !== id) say(`BRIDGELOG_INCIDENT=${fromEnv} is set and wins over this choice while it is`);
  return 0;
}
