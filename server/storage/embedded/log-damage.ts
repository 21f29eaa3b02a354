/**
 * Damage found in update logs: stretches between valid records that no longer read as records (a bit
 * flip, a bad sector). Their records are lost, everything valid after them is still served, and that
 * must not go unnoticed: each span is logged as an error once per process, counted in the
 * `bridgelog_log_damaged_records` metric, and shown with the incident (`GET /api/incidents/:id`).
 * Kept per log file for the life of the process: damage is a fact about the file, whoever read it.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import { recordsLost, type LogDamage } from '../../../shared/log-damage.js';
import type { IncidentHistory } from './incident-history.js';
import type { RecordMark } from './record.js';
import type { DamagedSpan } from './update-log.js';

interface FileDamage {
  incidentId: string;
  /** By offset: readers that knew less (no seq before it) are completed by those that knew more. */
  spans: Map<number, DamagedSpan>;
  logged: Set<number>;
  /** The log was read up to here (the end of a valid record), and that record. */
  verifiedTo: number;
  last?: RecordMark;
  log?: Logger;
}

const files = new Map<string, FileDamage>();

function damageOf(logFile: string): FileDamage {
  let d = files.get(logFile);
  if (!d) files.set(logFile, (d = { incidentId: path.basename(path.dirname(logFile)), spans: new Map(), logged: new Set(), verifiedTo: 0 }));
  return d;
}

function report(logFile: string, d: FileDamage): void {
  if (!d.log) return; // logged by the next load or check, which brings a logger
  for (const span of d.spans.values()) {
    if (d.logged.has(span.offset)) continue;
    d.logged.add(span.offset);
    d.log.error(
      { incident: d.incidentId, file: logFile, ...span, recordsLost: recordsLost(span) },
      span.nextSeq === undefined
        ? 'damaged records at the end of the update log: acknowledged, so kept on disk, not cut'
        : 'damaged records in the update log: skipped, the records after them are still served',
    );
  }
}

/** Notes a damaged span found by any reader of `logFile`. */
export function noteDamage(logFile: string, span: DamagedSpan, log?: Logger): void {
  const d = damageOf(logFile);
  d.log = log ?? d.log;
  d.spans.set(span.offset, { ...d.spans.get(span.offset), ...span });
  report(logFile, d);
}

/** A load read the log up to `upTo`, whose last record is `last`: nothing before it needs checking again. */
export function noteVerified(logFile: string, upTo: number, last: RecordMark, log: Logger): void {
  const d = damageOf(logFile);
  d.log = log;
  if (upTo > d.verifiedTo) Object.assign(d, { verifiedTo: upTo, last });
  report(logFile, d);
}

export function logDamage(logFile: string): LogDamage | undefined {
  const spans = [...(files.get(logFile)?.spans.values() ?? [])].sort((a, b) => a.offset - b.offset);
  if (spans.length === 0) return undefined;
  return { records: spans.reduce((n, s) => n + recordsLost(s), 0), spans };
}

/** Reads what no one has read yet of the log (up to `limit`, its durable size while loaded) and answers its damage. */
export async function checkLog(history: IncidentHistory, limit: number | undefined, log: Logger): Promise<LogDamage | undefined> {
  const d = damageOf(history.logFile);
  d.log = log;
  if (limit === undefined || limit > d.verifiedTo) {
    for await (const { record, end } of history.records({ from: d.verifiedTo, limit, after: d.last })) {
      if (end <= d.verifiedTo) continue; // another check got further meanwhile
      d.verifiedTo = end;
      d.last = { seq: record.seq, at: record.at };
    }
  }
  report(history.logFile, d);
  return logDamage(history.logFile);
}

/** Records lost per incident, for the metric. */
export function damagedRecordsByIncident(): Array<[string, number]> {
  return [...files.entries()].flatMap(([file, d]) => {
    const damage = d.spans.size ? logDamage(file) : undefined;
    return damage ? [[d.incidentId, damage.records] as [string, number]] : [];
  });
}
