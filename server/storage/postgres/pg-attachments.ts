/**
 * AttachmentStore in PostgreSQL (the records; the files are blobs), held by every node as a replica
 * (catalog-feed.ts). Records are frozen; names are served cleaned (safeFileName), as the embedded store
 * serves names stored before intake dropped bidi controls.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Attachment } from '../../../shared/attachments.js';
import type { AttachmentStore } from '../../attachments/attachment-store.js';
import { safeFileName } from '../../attachments/sniff.js';
import { deepFreeze, readByKey, Replica, type CatalogFeed } from './catalog-feed.js';

export async function openPgAttachments(pool: pg.Pool, feed: CatalogFeed, options: { log?: Logger } = {}): Promise<AttachmentStore> {
  const attachments = await Replica.open<Attachment>({
    feed,
    log: options.log,
    table: 'attachments',
    read: readByKey(pool, 'attachments', 'id'),
    decode(row) {
      const a = JSON.parse(row.value) as Attachment;
      a.name = safeFileName(a.name);
      return deepFreeze(a);
    },
  });
  return {
    async add(attachment) {
      const value = JSON.stringify(attachment);
      const { rows } = await pool.query<{ pos: number; version: number }>('INSERT INTO attachments (id, incident_id, value) VALUES ($1, $2, $3) RETURNING pos, version', [
        attachment.id,
        attachment.incidentId,
        value,
      ]);
      attachments.committed([{ key: attachment.id, pos: rows[0]!.pos, version: rows[0]!.version, value }]);
    },
    byId: (id) => attachments.get(id),
    forIncident: (incidentId) => attachments.values().filter((a) => a.incidentId === incidentId),
    all: () => attachments.values(),
    close: () => attachments.close(),
  };
}
