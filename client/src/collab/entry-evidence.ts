/**
 * An entry's evidence in the shared document: the alerts and attachments it references by id, and
 * links to evidence that lives elsewhere. Two people may add the same id at once, so removing takes
 * every copy and readers show each id once (`unique`).
 */
import * as Y from 'yjs';
import { entriesOf, type EvidenceLink } from '../../../shared/schema/doc';

type ListField = 'alerts' | 'attachments' | 'links';

function listOf<T>(doc: Y.Doc, entryId: string, field: ListField): Y.Array<T> | undefined {
  const list = entriesOf(doc).get(entryId)?.get(field);
  return list instanceof Y.Array ? (list as Y.Array<T>) : undefined;
}

function addOnce(doc: Y.Doc, entryId: string, field: 'alerts' | 'attachments', id: string): void {
  const list = listOf<string>(doc, entryId, field);
  if (list && !list.toArray().includes(id)) list.push([id]);
}

function removeWhere<T>(doc: Y.Doc, entryId: string, field: ListField, test: (item: T) => boolean): void {
  const list = listOf<T>(doc, entryId, field);
  if (!list) return;
  doc.transact(() => {
    const items = list.toArray();
    for (let i = items.length - 1; i >= 0; i--) if (test(items[i]!)) list.delete(i, 1);
  });
}

export const unique = (ids: readonly string[]): string[] => [...new Set(ids)];

export const linkAlert = (doc: Y.Doc, entryId: string, alertId: string) => addOnce(doc, entryId, 'alerts', alertId);
export const unlinkAlert = (doc: Y.Doc, entryId: string, alertId: string) => removeWhere<string>(doc, entryId, 'alerts', (id) => id === alertId);

export const addAttachment = (doc: Y.Doc, entryId: string, attachmentId: string) => addOnce(doc, entryId, 'attachments', attachmentId);
export const removeAttachment = (doc: Y.Doc, entryId: string, attachmentId: string) =>
  removeWhere<string>(doc, entryId, 'attachments', (id) => id === attachmentId);

export function addLink(doc: Y.Doc, entryId: string, link: EvidenceLink): void {
  listOf<EvidenceLink>(doc, entryId, 'links')?.push([link]);
}
export const removeLink = (doc: Y.Doc, entryId: string, link: EvidenceLink) =>
  removeWhere<EvidenceLink>(doc, entryId, 'links', (l) => l.url === link.url && l.label === link.label);
