/**
 * The several-node mode: PostgreSQL holds everything durable (migrated at start), Redis — when
 * REDIS_URL is set — carries committed records, presence and app events between nodes. A readiness
 * probe asks PostgreSQL every second; while it does not answer, /readyz says 503 (HAProxy sends no
 * one here), writes are refused and open incidents are closed with 4503, so nothing is acknowledged
 * that is not stored.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { PgSearchEngine } from '../../search/postgres/pg-search-engine.js';
import type { AccessChange } from '../../auth/access-changes.js';
import type { Config } from '../../config.js';
import { lockDataDir } from '../../store/data-dir-lock.js';
import { localBus, type ClusterBus } from '../cluster-bus.js';
import { openRedisBus } from '../redis/redis-bus.js';
import type { Readiness, Storage } from '../storage.js';
import { CatalogFeed } from './catalog-feed.js';
import { openDatabase } from './database.js';
import { openPgAlerts } from './pg-alerts.js';
import { openPgAttachments } from './pg-attachments.js';
import { openPgBlobs } from './pg-blobs.js';
import { PgIncidentLogs } from './pg-incident-log.js';
import { PgJobs } from './pg-jobs.js';
import { openPgMetadata } from './pg-metadata.js';
import { openPgSeenMarks } from './pg-seen-marks.js';
import { openPgNotifications } from './pg-notifications.js';
import { openPgInvites } from './pg-invites.js';

const PROBE_MS = 1000;

export async function openPostgresStorage(config: Config, log: Logger): Promise<Storage> {
  const databaseUrl = config.databaseUrl!;
  // DATA_DIR holds only this node's caches here (capture analyses, blobs copied for a worker): its own.
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const lock = lockDataDir(config.dataDir);
  const closers: Array<() => Promise<void> | void> = [() => lock.release()];
  const close = async () => {
    for (const c of closers.reverse()) await Promise.resolve(c()).catch((err) => log.warn({ err }, 'closing storage'));
  };
  try {
    const db = await openDatabase(databaseUrl, { max: 20 });
    closers.push(() => db.close());
    // Notifications have a small pool of their own: a slow delivery-log query never takes a connection
    // an incident's commit waits for.
    const notifyDb = await openDatabase(databaseUrl, { max: 4 });
    closers.push(() => notifyDb.close());
    const instanceId = `${config.nodeId}/${randomBytes(3).toString('hex')}`;
    let bus: ClusterBus = localBus(instanceId);
    if (config.redisUrl) {
      bus = await openRedisBus(config.redisUrl, instanceId, log);
    }
    closers.push(() => bus.close());
    const feed = await CatalogFeed.open(databaseUrl, log);
    closers.push(() => feed.close());
    const store = await openPgMetadata(db.pool, feed);
    const alerts = await openPgAlerts(db.pool, feed);
    const attachments = await openPgAttachments(db.pool, feed);
    const seen = await openPgSeenMarks(db.pool, feed);
    const blobs = await openPgBlobs(db.pool, { cacheDir: path.join(config.dataDir, 'blob-cache'), nodeId: config.nodeId });
    closers.push(() => blobs.close());
    const logs = new PgIncidentLogs(db.pool, bus, log, config.clusterPollMs);
    closers.push(() => logs.close());

    let readiness: Readiness = { ok: true };
    const readinessListeners = new Set<(r: Readiness) => void>();
    const setReadiness = (next: Readiness) => {
      if (next.ok === readiness.ok) return void (readiness = next);
      readiness = next;
      if (next.ok) {
        log.info('PostgreSQL reachable again: serving');
        feed.reconnectNow();
      }
      else log.error({ reason: next.reason }, 'PostgreSQL unreachable: refusing writes until it is back');
      for (const l of readinessListeners) l(next);
    };
    let probing = false;
    const probe = setInterval(() => {
      if (probing) return;
      probing = true;
      const timeout = setTimeout(() => setReadiness({ ok: false, reason: 'PostgreSQL does not answer' }), PROBE_MS * 2);
      db.pool
        .query('SELECT 1')
        .then(
          () => setReadiness({ ok: true }),
          (err: Error) => setReadiness({ ok: false, reason: `PostgreSQL unreachable: ${err.message}` }),
        )
        .finally(() => {
          clearTimeout(timeout);
          probing = false;
        });
    }, PROBE_MS);
    probe.unref();
    closers.push(() => clearInterval(probe));

    log.info({ node: config.nodeId, instance: instanceId, redis: Boolean(config.redisUrl) }, 'storage: PostgreSQL');
    return {
      mode: 'postgres',
      logs,
      catalog: { store, alerts, attachments, seen },
      blobs,
      jobs: new PgJobs(db.pool),
      search: new PgSearchEngine(db.pool),
      notifications: openPgNotifications(notifyDb.pool),
      invites: openPgInvites(db.pool),
      bus,
      catalogCaughtUp: () => feed.caughtUp(),
      readiness: () => readiness,
      onReadinessChange: (listener) => void readinessListeners.add(listener),
      onRemoteAccessChange(handler: (change: AccessChange) => void) {
        feed.onRemoteAccessChange(handler);
      },
      async close() {
        await store.close();
        await alerts.close();
        await attachments.close();
        await seen.close();
        await close();
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}
