/**
 * Alerts and alert integrations. Kept apart from users and incidents (their own lowdb file) because
 * they change far more often; raw payloads go to an append-only JSON-lines file, fdatasync'd, so
 * nothing a sender said is lost and the alert records stay small. Behind an interface, like every store.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Low } from 'lowdb';
import type { Alert, AlertLink, AlertSource, Integration } from '../../shared/alerts.js';
import { DurableJsonFile } from '../store/metadata.js';

export interface IntegrationRecord extends Integration {
  tokenHash: string;
}

export interface AlertRecord extends Omit<Alert, 'incidents' | 'links'> {
  integrationId: string;
  /** Incidents it is attached to (by matcher or by hand). */
  incidents: string[];
  /** Incidents a responder detached it from: matchers do not attach it there again. */
  detachedFrom: string[];
  /** Every attach and detach, oldest first (absent in alerts stored before it was kept). */
  links?: AlertLink[];
  receivedAt: string;
  updatedAt: string;
  /** Ids of its raw payloads in the raw log (the last few). */
  rawIds: string[];
}

export interface AlertStore {
  integrations(): IntegrationRecord[];
  integrationByTokenHash(hash: string): IntegrationRecord | undefined;
  addIntegration(integration: IntegrationRecord): Promise<void>;
  revokeIntegration(id: string): Promise<IntegrationRecord | undefined>;

  alerts(): AlertRecord[];
  alertById(id: string): AlertRecord | undefined;
  alertByFingerprint(source: AlertSource, fingerprint: string): AlertRecord | undefined;
  /** Stores new and changed alerts in one durable write. */
  saveAlerts(changed: AlertRecord[]): Promise<void>;

  /** Appends a raw payload to the raw log, durably; returns its id. */
  keepRaw(entry: { id: string; receivedAt: string; integrationId: string; source: AlertSource; payload: unknown }): void;
  close(): Promise<void>;
}

interface Data {
  version: 1;
  integrations: IntegrationRecord[];
  alerts: AlertRecord[];
}

const isData = (d: unknown): d is Data =>
  typeof d === 'object' && d !== null && (d as Data).version === 1 && Array.isArray((d as Data).integrations) && Array.isArray((d as Data).alerts);

export async function openLowdbAlerts(dataDir: string): Promise<AlertStore> {
  const file = path.join(dataDir, 'alerts.json');
  const adapter = new DurableJsonFile<Data>(file, isData);
  const db = new Low<Data>(adapter, { version: 1, integrations: [], alerts: [] });
  await db.read();
  const data = db.data;
  const byFingerprint = new Map(data.alerts.map((a) => [`${a.source}/${a.fingerprint}`, a]));
  const rawFd = fs.openSync(path.join(dataDir, 'alerts-raw.jsonl'), 'a', 0o600);

  return {
    integrations: () => data.integrations,
    integrationByTokenHash: (hash) => data.integrations.find((i) => i.tokenHash === hash && !i.revokedAt),
    async addIntegration(integration) {
      data.integrations.push(integration);
      await db.write();
    },
    async revokeIntegration(id) {
      const integration = data.integrations.find((i) => i.id === id);
      if (!integration) return undefined;
      integration.revokedAt ??= new Date().toISOString();
      await db.write();
      return integration;
    },

    alerts: () => data.alerts,
    alertById: (id) => data.alerts.find((a) => a.id === id),
    alertByFingerprint: (source, fingerprint) => byFingerprint.get(`${source}/${fingerprint}`),
    async saveAlerts(changed) {
      for (const alert of changed) {
        const key = `${alert.source}/${alert.fingerprint}`;
        if (!byFingerprint.has(key)) {
          byFingerprint.set(key, alert);
          data.alerts.push(alert);
        }
      }
      await db.write();
    },

    keepRaw(entry) {
      fs.writeSync(rawFd, `${JSON.stringify(entry)}\n`);
      fs.fdatasyncSync(rawFd);
    },
    async close() {
      await adapter.drain();
      fs.closeSync(rawFd);
    },
  };
}
