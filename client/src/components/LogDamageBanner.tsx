/**
 * Says so when part of the incident's history on the server's disk is damaged: which records were
 * lost, and that everything after them is still served. Without it, a lost record would just be a
 * quiet hole in the log, the timeline and the report.
 */
import type { Incident } from '../../../shared/model';
import type { LogDamage, LogDamageSpan } from '../../../shared/log-damage';

function lostRecords(span: LogDamageSpan): string {
  if (span.afterSeq === undefined || span.nextSeq === undefined) return `${span.bytes} bytes at offset ${span.offset}`;
  const first = span.afterSeq + 1;
  const last = span.nextSeq - 1;
  return first === last ? `record ${first}` : `records ${first}–${last}`;
}

export function LogDamageBanner({ incident }: { incident: Incident & { logDamage?: LogDamage } }) {
  const damage = incident.logDamage;
  if (!damage) return null;
  return (
    <p className="error banner" role="alert" data-testid="log-damage">
      Part of this incident's history is damaged on the server's disk: {damage.spans.map(lostRecords).join(', ')} could
      not be read. Who made those changes and when is lost, and they may be missing from the timeline, replay and exports;
      everything recorded after them is still here. An administrator will find the details in the server's log.
    </p>
  );
}
