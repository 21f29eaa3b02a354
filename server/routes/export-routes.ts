/**
 * `GET /api/incidents/:id/export?format=md|html|json|zip[&at=<ISO>]`: the postmortem report, as of any
 * moment; and `GET /api/schema/export-v1.json`, the JSON export's schema (public: it holds no data).
 */
import { Router } from 'express';
import type { AlertRecord } from '../alerts/alert-store.js';
import type { AttachmentStore } from '../attachments/attachment-store.js';
import type { CaptureAnalyses } from '../capture/capture-analyses.js';
import { writeBundle } from '../export/bundle.js';
import { writeHtml } from '../export/html.js';
import { toMarkdown } from '../export/markdown.js';
import { buildReport, snapshotAt, type Snapshot } from '../export/report.js';
import { exportJsonSchema } from '../../shared/schema/export.js';
import type { Blobs } from '../storage/blobs.js';
import { paced } from './paced.js';
import { authenticated, type RouteContext, requestedIncident, userOf } from './context.js';
import { HttpError, parseTime } from './http-error.js';

const FORMATS = { md: 'text/markdown; charset=utf-8', html: 'text/html; charset=utf-8', json: 'application/json', zip: 'application/zip' } as const;

export function exportRoutes(ctx: RouteContext, deps: { attachments: AttachmentStore; blobs: Blobs; analyses: CaptureAnalyses }): Router {
  const router = Router();
  const schema = JSON.stringify(exportJsonSchema(), null, 2);
  router.get('/api/schema/export-v1.json', (_req, res) => {
    res.type('application/schema+json').set('Cache-Control', 'public, max-age=3600').send(schema);
  });
  router.get('/api/incidents/:id/export', authenticated(ctx.auth), paced(ctx.timeShare), async (req, res) => {
    const incident = requestedIncident(ctx.store, req, res);
    const format = String(req.query.format ?? 'md') as keyof typeof FORMATS;
    if (!(format in FORMATS)) throw new HttpError(400, 'format: expected md, html, json or zip', 'format');
    const at = parseTime(req.query.at);
    if (at < Date.parse(incident.createdAt)) throw new HttpError(400, `at: the incident did not exist yet at ${new Date(at).toISOString()} (it was declared ${incident.createdAt})`, 'at');

    // The report reads capture analyses synchronously: those another node made are fetched first.
    await deps.analyses.prepare(deps.attachments.forIncident(incident.id).flatMap((a) => (a.kind === 'capture' ? [a.sha256] : [])));
    const history = ctx.rooms.logOf(incident.id);
    let snapshot: Snapshot;
    if (req.query.at === undefined) {
      // Now: the live document and the server's running authorship, no replay, no second copy.
      const room = await ctx.rooms.open(incident.id);
      const authorship = ctx.authorship.of(incident.id, history);
      await authorship.catchUp(room.doc, room.lastSeq);
      snapshot = { doc: room.doc, authors: authorship.entries, milestoneWriter: (name) => authorship.milestoneWriter(room.doc, name), at, events: authorship.incidentEvents };
    } else {
      snapshot = await snapshotAt(history, at, ctx.rooms.loaded(incident.id)?.lastSeq);
    }
    const user = userOf(res);
    const canSeeAlert = (alert: AlertRecord) => ctx.alertReceiver.visibleTo(user, alert);
    const report = await buildReport({ ...deps, store: ctx.store, alerts: ctx.alerts, log: ctx.log, canSeeAlert }, incident, snapshot);
    if (req.query.at !== undefined) snapshot.doc.destroy();
    const stamp = report.asOf.replace(/[:.]/g, '-');
    res.set({
      'Content-Type': FORMATS[format],
      'Content-Disposition': `attachment; filename="incident-${incident.id}-${stamp}.${format}"`,
      'Cache-Control': 'no-store',
    });
    if (format === 'md') res.send(toMarkdown(report, { attachmentHref: (a) => `/api/attachments/${a.id}` }));
    else if (format === 'json') res.send(JSON.stringify(report, null, 2));
    else if (format === 'html') {
      await writeHtml(report, res, deps.blobs);
      res.end();
    } else {
      res.locals.pacedUntil = performance.now(); // the rest is streaming the attachments
      await writeBundle(report, res, deps.blobs);
    }
  });
  return router;
}
