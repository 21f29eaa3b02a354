/**
 * Damage found in an incident's update log (`GET /api/incidents/:id` answers it as `logDamage`):
 * stretches of the log on the server's disk that no longer read as records. The records in them are
 * lost; everything valid after them is still served.
 */
export interface LogDamageSpan {
  /** Byte offset in the log, and length up to the next valid record. */
  offset: number;
  bytes: number;
  reason: string;
  /** The last record before it and the first after it, when known: records in between are lost. */
  afterSeq?: number;
  nextSeq?: number;
}

export interface LogDamage {
  /** Records lost, at least (a span whose neighbours are unknown counts as one). */
  records: number;
  spans: LogDamageSpan[];
}

/** Records a span lost, at least. */
export function recordsLost(span: LogDamageSpan): number {
  return span.afterSeq !== undefined && span.nextSeq !== undefined ? Math.max(span.nextSeq - span.afterSeq - 1, 0) : 1;
}
