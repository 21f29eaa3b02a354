/**
 * The timeline's items are derived in shared/timeline.ts, so the timeline view and the postmortem
 * exports (server/export/report.ts) list the same things on the same UTC axis (#16).
 */
export * from '../../../shared/timeline.js';
