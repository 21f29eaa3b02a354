/**
 * The embedded default: everything under DATA_DIR, locked to this one process. The files and their
 * formats are those Bridgelog has always written.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { openLowdbAlerts } from '../../alerts/alert-store.js';
import { openLowdbAttachments } from '../../attachments/attachment-store.js';
import { lockDataDir } from '../../store/data-dir-lock.js';
import { openLowdbMetadata } from '../../store/metadata.js';
import { openLowdbSeenMarks } from '../../store/seen-marks.js';
import { localBus } from '../cluster-bus.js';
import type { Storage } from '../storage.js';
import { EmbeddedIncidentLogs } from './embedded-incident-log.js';
import { openFileBlobs } from './file-blobs.js';
import { MemorySearchEngine } from '../../search/embedded/memory-engine.js';
import { openEmbeddedNotifications } from './embedded-notifications.js';
import { openEmbeddedInvites } from '../../auth/invite-store.js';

export async function openEmbeddedStorage(dataDir: string, log: Logger): Promise<Storage> {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const lock = lockDataDir(dataDir);
  try {
    const store = await openLowdbMetadata(path.join(dataDir, 'bridgelog.json'));
    const alerts = await openLowdbAlerts(dataDir);
    const attachments = await openLowdbAttachments(dataDir);
    const seen = await openLowdbSeenMarks(dataDir);
    const blobs = await openFileBlobs(dataDir);
    const notifications = await openEmbeddedNotifications(dataDir);
    const invites = await openEmbeddedInvites(dataDir);
    return {
      mode: 'embedded',
      logs: new EmbeddedIncidentLogs(dataDir, log),
      catalog: { store, alerts, attachments, seen },
      blobs,
      search: new MemorySearchEngine(),
      notifications,
      invites,
      bus: localBus('embedded'),
      // One process: its catalog is the truth, never behind.
      catalogCaughtUp: () => Promise.resolve(),
      readiness: () => ({ ok: true }),
      onReadinessChange: () => undefined,
      onRemoteAccessChange: () => undefined,
      async close() {
        await store.close();
        await alerts.close();
        await attachments.close();
        await seen.close();
        await notifications.close();
        await invites.close();
        lock.release();
      },
    };
  } catch (err) {
    lock.release();
    throw err;
  }
}
