/**
 * What monitoring systems send, parsed leniently as real senders require — Alertmanager's `endsAt`
 * of 0001-01-01 means "still firing", `groupKey` may be null, times carry offsets — but completely
 * before anything is stored: a payload is accepted whole or refused whole, with the field named.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { AlertSource, AlertStatus } from '../../shared/alerts.js';

/** One alert as every source is reduced to. Times are ms since the epoch (UTC). */
export interface ReceivedAlert {
  fingerprint: string;
  status: AlertStatus;
  title: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: number;
  endsAt: number | null;
  url: string | null;
}

export class PayloadError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Any ISO-8601 time with a zone, any number of fractional digits. */
const time = z.string().refine((s) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)), {
  message: 'expected an ISO-8601 time with a zone',
});
const stringMap = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String));

const promAlert = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: stringMap,
  annotations: stringMap.optional().default({}),
  startsAt: time,
  endsAt: time.optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().min(1).max(200).optional(),
});

const alertmanagerPayload = z.object({
  version: z.string(),
  groupKey: z.string().nullable().optional(),
  status: z.enum(['firing', 'resolved']).optional(),
  alerts: z.array(promAlert).max(1000),
});

const grafanaPayload = alertmanagerPayload.extend({
  alerts: z.array(promAlert.extend({ dashboardURL: z.string().optional(), panelURL: z.string().optional() })).max(1000),
});

const genericPayload = z.object({
  title: z.string().trim().min(1).max(300),
  severity: z.string().max(40).optional(),
  status: z.enum(['firing', 'resolved']).optional(),
  labels: stringMap.optional().default({}),
  annotations: stringMap.optional().default({}),
  startsAt: time.optional(),
  endsAt: time.optional(),
  url: z.string().max(2000).optional(),
  fingerprint: z.string().min(1).max(200).optional(),
});

/** Alertmanager's "no end yet". */
const ZERO_TIME = Date.parse('0001-01-01T00:00:00Z');

function parse<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new PayloadError('expected a JSON object');
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.join('.') || undefined;
  throw new PayloadError(field ? `${field}: ${issue.message}` : issue.message, field);
}

const endOf = (endsAt: string | undefined): number | null => {
  if (!endsAt) return null;
  const ms = Date.parse(endsAt);
  return ms <= ZERO_TIME ? null : ms;
};

/** Fingerprint of an alert that brought none: its labels, sorted. */
function labelsFingerprint(labels: Record<string, string>): string {
  const canonical = JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

function fromProm(a: z.infer<typeof promAlert> & { panelURL?: string }): ReceivedAlert {
  return {
    fingerprint: a.fingerprint ?? labelsFingerprint(a.labels),
    status: a.status,
    title: a.annotations.summary ?? a.labels.alertname ?? 'alert',
    labels: a.labels,
    annotations: a.annotations,
    startsAt: Date.parse(a.startsAt),
    endsAt: a.status === 'resolved' ? (endOf(a.endsAt) ?? Date.now()) : null,
    url: a.panelURL ?? a.generatorURL ?? null,
  };
}

export function parsePayload(source: AlertSource, body: unknown, now = Date.now()): ReceivedAlert[] {
  switch (source) {
    case 'alertmanager': {
      const payload = parse(alertmanagerPayload, body);
      if (payload.version !== '4') throw new PayloadError(`unsupported Alertmanager webhook version "${payload.version}" (expected "4")`, 'version');
      return payload.alerts.map(fromProm);
    }
    case 'grafana': {
      const payload = parse(grafanaPayload, body);
      if (payload.version !== '1') throw new PayloadError(`unsupported Grafana webhook version "${payload.version}" (expected "1")`, 'version');
      return payload.alerts.map(fromProm);
    }
    case 'generic': {
      const p = parse(genericPayload, body);
      const endsAt = p.endsAt ? endOf(p.endsAt) : null;
      const resolved = p.status === 'resolved' || (p.status === undefined && endsAt !== null && endsAt <= now);
      const labels = { ...p.labels, ...(p.severity ? { severity: p.severity } : {}) };
      return [{
        fingerprint: p.fingerprint ?? labelsFingerprint({ ...labels, __title: p.title }),
        status: resolved ? 'resolved' : 'firing',
        title: p.title,
        labels,
        annotations: p.annotations,
        startsAt: p.startsAt ? Date.parse(p.startsAt) : now,
        endsAt: resolved ? (endsAt ?? now) : null,
        url: p.url ?? null,
      }];
    }
  }
}
