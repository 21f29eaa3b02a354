/** Attachment records (the files themselves are in the blob store). Behind an interface, like every store. */
import path from 'node:path';
import { Low } from 'lowdb';
import type { Attachment } from '../../shared/attachments.js';
import { DurableJsonFile } from '../store/metadata.js';
import { safeFileName } from './sniff.js';

export interface AttachmentStore {
  add(attachment: Attachment): Promise<void>;
  byId(id: string): Attachment | undefined;
  forIncident(incidentId: string): Attachment[];
  all(): Attachment[];
  close(): Promise<void>;
}

interface Data {
  version: 1;
  attachments: Attachment[];
}

const isData = (d: unknown): d is Data => typeof d === 'object' && d !== null && (d as Data).version === 1 && Array.isArray((d as Data).attachments);

export async function openLowdbAttachments(dataDir: string): Promise<AttachmentStore> {
  const adapter = new DurableJsonFile<Data>(path.join(dataDir, 'attachments.json'), isData);
  const db = new Low<Data>(adapter, { version: 1, attachments: [] });
  await db.read();
  // Names stored before intake dropped bidi controls are served cleaned too (downloads, lists, exports).
  for (const a of db.data.attachments) a.name = safeFileName(a.name);
  const byId = new Map(db.data.attachments.map((a) => [a.id, a]));
  return {
    async add(attachment) {
      db.data.attachments.push(attachment);
      byId.set(attachment.id, attachment);
      await db.write();
    },
    byId: (id) => byId.get(id),
    forIncident: (incidentId) => db.data.attachments.filter((a) => a.incidentId === incidentId),
    all: () => db.data.attachments,
    close: () => adapter.drain(),
  };
}
