/**
 * Alerts and alert integrations, kept apart from users and incidents because they change far more
 * often. Integrations are a small lowdb file. Alert records are an append-only JSON-lines file: each
 * webhook appends the records it changed (the last line of an id wins), rewritten without the
 * superseded lines once they outnumber the live ones — rewriting every alert on every webhook cost
 * ~8 ms of the event loop per webhook at 4,000 alerts, and growing. Raw payloads go to their own
 * append-only file, so nothing a sender said is lost. All group-committed and fdatasync'd before the
 * webhook is answered. Behind an interface, like every store.
 */
import path from 'node:path';
import { Low } from 'lowdb';
import type { Alert, AlertLink, AlertSource, Integration } from '../../shared/alerts.js';
import { AppendLog } from '../store/append-log.js';
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

  /** Appends a raw payload to the raw log; resolves once it is durable. */
  keepRaw(entry: { id: string; receivedAt: string; integrationId: string; source: AlertSource; payload: unknown }): Promise<void>;
  close(): Promise<void>;
}

interface Data {
  version: 1;
  integrations: IntegrationRecord[];
  /** Only in files written before alert records had their own log: moved there on the first start. */
  alerts?: AlertRecord[];
}

const isData = (d: unknown): d is Data =>
  typeof d === 'object' && d !== null && (d as Data).version === 1 && Array.isArray((d as Data).integrations);

/** Superseded lines the alert log may hold beyond the live records before it is rewritten. */
const SLACK_LINES = 1000;

export async function openLowdbAlerts(dataDir: string): Promise<AlertStore> {
  const file = path.join(dataDir, 'alerts.json');
  const adapter = new DurableJsonFile<Data>(file, isData);
  const db = new Low<Data>(adapter, { version: 1, integrations: [] });
  await db.read();
  const data = db.data;
  const logFile = path.join(dataDir, 'alert-records.jsonl');
  const stored = await AppendLog.read<AlertRecord>(logFile);
  const latest = new Map<string, AlertRecord>();
  // The last line of an id wins; the order is that in which alerts were first stored.
  for (const record of stored) latest.set(record.id, record);
  const records = new AppendLog(logFile);
  records.lines = stored.length;
  if (data.alerts) {
    // Moved from an older alerts.json: into the log first, durably, and only then out of the file.
    await records.rewrite(data.alerts);
    for (const a of data.alerts) latest.set(a.id, a);
    delete data.alerts;
    await db.write();
  }
  const all = [...latest.values()];
  const byId = new Map(all.map((a) => [a.id, a]));
  const byFingerprint = new Map(all.map((a) => [`${a.source}/${a.fingerprint}`, a]));
  const raw = new AppendLog(path.join(dataDir, 'alerts-raw.jsonl'));

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

    alerts: () => all,
    alertById: (id) => byId.get(id),
    alertByFingerprint: (source, fingerprint) => byFingerprint.get(`${source}/${fingerprint}`),
    async saveAlerts(changed) {
      for (const alert of changed) {
        const key = `${alert.source}/${alert.fingerprint}`;
        if (!byFingerprint.has(key)) {
          byFingerprint.set(key, alert);
          byId.set(alert.id, alert);
          all.push(alert);
        }
      }
      await records.append(changed);
      if (records.lines > 2 * all.length + SLACK_LINES) await records.rewrite(all);
    },

    keepRaw: (entry) => raw.append([entry]),
    async close() {
      await adapter.drain();
      await records.close();
      await raw.close();
    },
  };
}

