/**
 * Sending queued entries to the server: measure the clock, upload the files not yet uploaded, write
 * the entry through the document, and remove it from the queue only once the server says it is
 * durable. Progress is saved after each step, so a retry resumes where the last attempt stopped.
 */
import * as Y from 'yjs';
import { createEntry, createHypothesis, entriesOf, hypothesesOf, listHypotheses, setVerdict, type Verdict } from '../shared/schema/doc.js';
import type { EntryQueue, QueueItem, QueuedEntry } from './entry-queue.js';
import { entryInput } from './entry-report.js';
import { ServerRefused, ServerUnreachable } from './errors.js';
import { writeToIncident } from './incident-socket.js';
import { say } from './say.js';
import type { BridgelogApi } from './server-api.js';

/** How long the server may take to list an entry it already has in its history (it is fdatasync'd first). */
const CONFIRM_TIMEOUT_MS = 10_000;

/** Delivers one entry; resolves with notes for the person (a hypothesis created, a verdict skipped). */
export async function deliver(api: BridgelogApi, queue: EntryQueue, item: QueueItem): Promise<string[]> {
  const { entry } = item;
  const me = await api.me();
  if (me.role === 'viewer') throw new ServerRefused(`${me.name} is a viewer on ${api.url}: viewers cannot log entries`);
  if (!entry.clockOffset) {
    entry.clockOffset = await api.clockOffset();
    queue.save(item);
  }
  for (const file of entry.files) {
    if (file.attachmentId) continue;
    file.attachmentId = (await api.upload(entry.incidentId, queue.filePath(item, file), file.name)).id;
    queue.save(item);
  }
  const notes: string[] = [];
  const wrote = await writeToIncident(api, entry.incidentId, (doc) => {
    if (entriesOf(doc).has(entry.entryId)) return false; // sent before, but the confirmation was lost
    createEntry(doc, entryInput(entry), entry.entryId);
    (entriesOf(doc).get(entry.entryId)!.get('attachments') as Y.Array<string>).push(entry.files.map((f) => f.attachmentId!));
    if (entry.hypothesis) notes.push(...recordVerdict(doc, entry.entryId, entry.hypothesis.ref, entry.hypothesis.verdict));
    return true;
  });
  if (!wrote) await confirmInHistory(api, entry);
  queue.remove(item);
  return notes;
}

/**
 * Delivers the entries queued for this server, oldest first. Stops at the first sign that the
 * server is unreachable (the rest would fail the same way) and returns that error.
 */
export async function deliverQueued(api: BridgelogApi, queue: EntryQueue, except?: QueueItem): Promise<ServerUnreachable | undefined> {
  const waiting = queue.list().filter((item) => item.entry.server === api.url && item.dir !== except?.dir);
  for (const [i, item] of waiting.entries()) {
    if (!queue.lock(item)) continue; // another bridgelog process is delivering it
    try {
      const notes = await deliver(api, queue, item);
      say(`delivered a queued entry to incident ${item.entry.incidentId}: ${item.entry.title}`);
      notes.forEach(say);
    } catch (err) {
      keepWaiting(queue, item, err);
      if (err instanceof ServerUnreachable) {
        say(`${waiting.length - i} queued ${waiting.length - i === 1 ? 'entry is' : 'entries are'} still waiting: ${err.message}`);
        return err;
      }
      say(`a queued entry (${item.entry.title}) is still waiting: ${describe(err)} (see \`bridgelog queue\`)`);
    } finally {
      queue.unlock(item);
    }
  }
  return undefined;
}

/**
 * Delivers an entry just made, after any older ones; says what happened. Resolves true once the
 * server has it on disk, false when it stays queued.
 */
export async function deliverNew(api: BridgelogApi, queue: EntryQueue, item: QueueItem): Promise<boolean> {
  try {
    const unreachable = await deliverQueued(api, queue, item);
    if (unreachable) throw unreachable;
    const notes = await deliver(api, queue, item);
    say(`logged to incident ${item.entry.incidentId} (entry ${item.entry.entryId})`);
    notes.forEach(say);
    return true;
  } catch (err) {
    keepWaiting(queue, item, err);
    say(`NOT logged yet: ${describe(err)}`);
    say(`kept in ${item.dir}; the next bridgelog command sends it (see \`bridgelog queue\`)`);
    return false;
  } finally {
    queue.unlock(item);
  }
}

function keepWaiting(queue: EntryQueue, item: QueueItem, err: unknown): void {
  item.entry.lastError = describe(err);
  try {
    queue.keepFiles(item);
  } catch (copyErr) {
    item.entry.lastError += `; and no copy could be kept of an attached file: ${describe(copyErr)}`;
    queue.save(item);
  }
}

const describe = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** An entry that was already in the document: done once the server's history (on disk) lists it. */
async function confirmInHistory(api: BridgelogApi, entry: QueuedEntry): Promise<void> {
  const deadline = Date.now() + CONFIRM_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if ((await api.authors(entry.incidentId)).entries[entry.entryId]) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new ServerUnreachable(`${api.url} has the entry but did not confirm it is saved within ${CONFIRM_TIMEOUT_MS / 1000} s`);
}

/**
 * `ref` is a hypothesis id, or words of its statement. No match: a new hypothesis with that
 * statement, unless `ref` looks like an id (a typo should not become a hypothesis).
 */
function recordVerdict(doc: Y.Doc, entryId: string, ref: string, verdict: Verdict): string[] {
  if (hypothesesOf(doc).has(ref)) {
    setVerdict(doc, entryId, ref, verdict);
    return [];
  }
  const words = ref.trim().toLowerCase();
  const all = listHypotheses(doc);
  const exact = all.filter((h) => h.statement.trim().toLowerCase() === words);
  const matches = exact.length > 0 ? exact : all.filter((h) => h.statement.toLowerCase().includes(words));
  if (matches.length === 1) {
    setVerdict(doc, entryId, matches[0]!.id, verdict);
    return [];
  }
  if (matches.length > 1) {
    const listed = matches.map((h) => `${h.id} "${h.statement}"`).join(', ');
    return [`"${ref}" matches ${matches.length} hypotheses (${listed}): the verdict was not recorded; give the id`];
  }
  if (/^[0-9a-z]{12}$/.test(ref)) return [`no hypothesis ${ref} in this incident: the verdict was not recorded`];
  setVerdict(doc, entryId, createHypothesis(doc, ref), verdict);
  return [`new hypothesis: ${ref}`];
}
