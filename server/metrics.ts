/** Prometheus metrics (`GET /metrics`). One registry per server, so tests can run several. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { damagedRecordsByIncident } from './storage/embedded/log-damage.js';

export class Metrics {
  readonly registry = new Registry();
  readonly connections = new Gauge({ name: 'bridgelog_connections', help: 'Open collaboration sockets', registers: [this.registry] });
  readonly loadedDocs = new Gauge({ name: 'bridgelog_loaded_docs', help: 'Incident documents in memory', registers: [this.registry] });
  readonly updates = new Counter({ name: 'bridgelog_updates_total', help: 'Updates accepted and appended to a log', registers: [this.registry] });
  readonly rejected = new Counter({
    name: 'bridgelog_rejected_messages_total',
    help: 'Collaboration messages refused, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly fdatasync = new Histogram({
    name: 'bridgelog_fdatasync_seconds',
    help: 'Write + fdatasync of one group commit of an update log',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly logDamage = new Gauge({
    name: 'bridgelog_log_damaged_records',
    help: 'Records lost to damage found in an update log (at least), by incident; the valid records after it are still served',
    labelNames: ['incident'] as const,
    registers: [this.registry],
    collect() {
      this.reset();
      for (const [incident, records] of damagedRecordsByIncident()) this.set({ incident }, records);
    },
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}

/** Reasons as metric labels: bounded, without the per-message details. */
export function reasonLabel(reason: string): string {
  return reason.replace(/\d+/g, 'N').slice(0, 60);
}
