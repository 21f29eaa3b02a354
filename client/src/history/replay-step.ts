/**
 * What a step of a replay did, in words: which entries it touched (outlined in the log, with who
 * and what) and one line per change for the replay bar, e.g. "kim changed the observations of
 * “ping gw”". Read from the event index, so a seek and a played step read the same.
 */
import type { HistoryChange, HistoryEvent } from '../../../shared/history';
import { milestoneLabel } from '../../../shared/schema/milestones';
import { formatUtc } from '../time';

export interface ReplayStep {
  /** Entry id → who changed it and what, e.g. "kim · observations". */
  entries: ReadonlyMap<string, string>;
  notes: string[];
}

export const NO_STEP: ReplayStep = { entries: new Map(), notes: [] };

const FIELD_NAMES: Record<string, string> = { ranAt: 'run time', hypotheses: 'verdicts', alerts: 'linked alerts' };
const fieldName = (field: string) => FIELD_NAMES[field] ?? field;
const listed = (words: string[]) => (words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`);

/** The events that records `from` (exclusive) to `to` (inclusive) belong to. */
export function eventsBetween(events: readonly HistoryEvent[], from: number, to: number): HistoryEvent[] {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (events[mid]!.toSeq > from) hi = mid;
    else lo = mid + 1;
  }
  const out: HistoryEvent[] = [];
  for (let i = lo; i < events.length && events[i]!.seq <= to; i++) out.push(events[i]!);
  return out;
}

interface Names {
  user: (id: string) => string;
  /** The entry's title in the replayed document (absent once removed). */
  title: (entryId: string) => string | undefined;
  /** Whether the entry is deleted (#16) in the replayed document. */
  deleted?: (entryId: string) => boolean;
}

function describe(change: HistoryChange, who: string, names: Names): { note: string; entry?: [string, string] } {
  const quoted = (entryId: string) => `“${names.title(entryId) || '(untitled)'}”`;
  switch (change.kind) {
    case 'entry-added':
      return { note: `${who} logged ${change.entryKind} “${change.title || '(untitled)'}”`, entry: [change.entry, `${who} · logged`] };
    case 'entry-changed': {
      // Its tombstone set or removed (#16): said as what it is.
      if (change.fields.length === 1 && change.fields[0] === 'deleted') {
        const gone = names.deleted?.(change.entry) ?? false;
        return { note: `${who} ${gone ? 'deleted' : 'restored'} ${quoted(change.entry)}`, entry: [change.entry, `${who} · ${gone ? 'deleted' : 'restored'}`] };
      }
      const what = change.fields.filter((f) => f !== 'attachments').map(fieldName);
      if (change.attachmentsAdded?.length) what.push(change.attachmentsAdded.length === 1 ? 'a file' : `${change.attachmentsAdded.length} files`);
      else if (change.fields.includes('attachments')) what.push('files');
      return { note: `${who} changed ${listed(what) || 'something'} of ${quoted(change.entry)}`, entry: [change.entry, `${who} · ${what.join(', ')}`] };
    }
    case 'entry-removed':
      return { note: `${who} removed an entry` };
    case 'hypothesis-added':
      return { note: `${who} added the hypothesis “${change.statement}”` };
    case 'verdict':
      return { note: `${who} marked “${change.statement}” ${change.status}` };
    case 'hypothesis-changed':
      return { note: `${who} changed the ${fieldName(change.field)} of a hypothesis` };
    case 'hypothesis-removed':
      return { note: `${who} removed a hypothesis` };
    case 'incident':
      if (change.field === 'members') return { note: change.value === null ? `${who} opened the incident to everyone` : `${who} restricted the incident to ${change.value}` };
      return { note: change.value === null ? `${who} cleared the incident’s ${change.field}` : `${who} set the incident’s ${change.field} to ${change.value}` };
    case 'milestone': {
      const label = milestoneLabel(change.name);
      return { note: change.value === null ? `${who} cleared ${label}` : `${who} set ${label} to ${formatUtc(change.value)}` };
    }
  }
}

export function describeEvents(events: readonly HistoryEvent[], names: Names): ReplayStep {
  const entries = new Map<string, string>();
  const notes: string[] = [];
  for (const event of events) {
    const who = names.user(event.userId);
    for (const change of event.changes) {
      const { note, entry } = describe(change, who, names);
      if (!notes.includes(note)) notes.push(note);
      if (entry) entries.set(...entry);
    }
  }
  return { entries, notes };
}
