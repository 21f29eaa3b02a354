/**
 * The incident-level changes a postmortem timeline lists (#16) — status and severity set, hypotheses
 * added and their verdicts — read from one record of the update log with its user and receive time,
 * as `HistoryEvent`s the shared timeline derivation takes (shared/timeline.ts).
 *
 * Read in the authorship pass (authorship.ts), which already walks every record against a document
 * holding all it wrote, so an export gets them without building the incident's replay (a full
 * second walk of the history: seconds on a pathological log). Where a struct lies is read from the
 * document; the value from the record itself, since an overwritten value's content is gone from the
 * document once it is garbage-collected.
 */
import * as Y from 'yjs';
import type { HistoryChange, HistoryEvent } from '../../shared/history.js';
import { hypothesesOf, metaOf } from '../../shared/schema/doc.js';
import type { LogRecord } from '../storage/incident-log.js';

const META_FIELDS = new Set(['status', 'severity']);

/** The first item of the document in [clock, clock + len) of `client`, if any. */
function itemAt(doc: Y.Doc, client: number, clock: number): Y.Item | undefined {
  const structs = doc.store.clients.get(client);
  if (!structs || Y.getState(doc.store, client) <= clock) return undefined;
  const struct = structs[Y.findIndexSS(structs, clock)];
  return struct instanceof Y.Item ? struct : undefined;
}

/** The changes `decoded` (the update of `record`) made, as one event; undefined when none of interest. */
export function incidentChangesOf(doc: Y.Doc, record: LogRecord, decoded: ReturnType<typeof Y.decodeUpdate>): HistoryEvent | undefined {
  const meta = metaOf(doc);
  const hypotheses = hypothesesOf(doc);
  const changes: HistoryChange[] = [];
  const added = new Set<string>();
  const written = new Map<string, { statement?: string; status?: string }>();
  for (const s of decoded.structs) {
    if (!(s instanceof Y.Item)) continue;
    // A map value is one struct; its last element is the value it set.
    const item = itemAt(doc, s.id.client, s.id.clock + s.length - 1);
    if (!item || item.parentSub === null) continue;
    const value = s.content instanceof Y.ContentAny ? s.content.getContent()[s.content.getLength() - 1] : undefined;
    if (item.parent === meta) {
      if (META_FIELDS.has(item.parentSub) && typeof value === 'string') changes.push({ kind: 'incident', field: item.parentSub, value });
    } else if (item.parent === hypotheses) {
      if (s.content instanceof Y.ContentType) added.add(item.parentSub);
    } else if ((item.parent as Y.AbstractType<unknown>)._item?.parent === hypotheses && typeof value === 'string') {
      const id = (item.parent as Y.AbstractType<unknown>)._item!.parentSub!;
      const h = written.get(id) ?? {};
      if (item.parentSub === 'status') h.status = value;
      else if (item.parentSub === 'statement') h.statement = value;
      written.set(id, h);
    }
  }
  const statementOf = (id: string) => {
    const now = hypotheses.get(id)?.get('statement');
    return written.get(id)?.statement ?? (typeof now === 'string' ? now : '');
  };
  for (const id of added) changes.push({ kind: 'hypothesis-added', hypothesis: id, statement: statementOf(id), status: written.get(id)?.status ?? 'open' });
  for (const [id, { status }] of written) {
    if (!added.has(id) && status !== undefined) changes.push({ kind: 'verdict', hypothesis: id, statement: statementOf(id), status });
  }
  if (changes.length === 0) return undefined;
  const at = new Date(record.at).toISOString();
  return { seq: record.seq, toSeq: record.seq, at, toAt: at, userId: record.userId, changes };
}
