/**
 * Evidence files. Uploads stream to disk through ContentAddressedStorage (hash, sniff, limits, no
 * partial files); downloads are never rendered by the browser except raster images; captures get
 * their analysis in a worker thread, with progress announced live.
 */
import { pipeline } from 'node:stream';
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import multer from 'multer';
import type { Attachment } from '../../shared/attachments.js';
import { newId } from '../../shared/schema/doc.js';
import type { AttachmentStore } from '../attachments/attachment-store.js';
import { ContentAddressedStorage, UploadRefused, type StoredUpload } from '../attachments/upload-storage.js';
import { safeFileName } from '../attachments/sniff.js';
import { visibleIncident } from '../auth/authenticate.js';
import { AnalysisNotDone, MAX_WINDOW_MS, type CaptureAnalyses } from '../capture/capture-analyses.js';
import type { ByteRange, Blobs } from '../storage/blobs.js';
import { authenticated, requireRole, type RouteContext, requestedIncident, userOf } from './context.js';
import { HttpError, notFound } from './http-error.js';

export interface AttachmentDeps {
  attachments: AttachmentStore;
  blobs: Blobs;
  analyses: CaptureAnalyses;
  uploadLimits: Record<Attachment['kind'], number>;
}

/** Multipart framing around the file: a body this much over the largest limit is refused unread. */
const MULTIPART_SLACK = 64 * 1024;

/** As the API shows a file; who uploaded it and when place it on the timeline (#16). */
const present = (a: Attachment) => ({ id: a.id, name: a.name, size: a.size, sha256: a.sha256, kind: a.kind, uploadedBy: a.uploadedBy, uploadedAt: a.uploadedAt });

/** RFC 6266 / 5987: an ASCII fallback and the exact UTF-8 name. */
function contentDisposition(type: 'inline' | 'attachment', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `${type}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export function attachmentRoutes(ctx: RouteContext, deps: AttachmentDeps): Router {
  const router = Router();
  const maxUpload = Math.max(...Object.values(deps.uploadLimits));
  const upload = multer({
    storage: new ContentAddressedStorage(deps.blobs, deps.uploadLimits, (req, err) => {
      const res = req.res!;
      if (res.headersSent) return;
      res.set('Connection', 'close').status(err.status).json({ error: err.message });
    }),
    limits: { files: 1, fields: 4, parts: 6, fieldNameSize: 64, fieldSize: 4096, headerPairs: 50 },
    // Browsers send UTF-8 file names; busboy would read them as Latin-1.
    defParamCharset: 'utf8',
  }).single('file') as unknown as RequestHandler;

  const incidentFor = (req: Request, res: Response) => requestedIncident(ctx.store, req, res);

  /** Refusals during an upload close the connection, so the rest of the body is never read. */
  function uploadErrors(err: unknown, _req: Request, res: Response, next: NextFunction): void {
    if (res.headersSent) return; // answered already, the moment a limit was crossed
    res.set('Connection', 'close');
    if (err instanceof UploadRefused) return next(new HttpError(err.status, err.message));
    if (err instanceof multer.MulterError) {
      const field = err.field ? ` (${err.field.slice(0, 64)})` : '';
      const message =
        err.code === 'LIMIT_UNEXPECTED_FILE' ? `unexpected file field${field}: send one file in the field "file"` : `malformed upload: ${err.message}${field}`;
      return next(new HttpError(400, message, 'file'));
    }
    if (err instanceof Error && /Unexpected end of form|Malformed part header|Multipart: Boundary not found/i.test(err.message)) {
      return next(new HttpError(400, `malformed multipart body: ${err.message}`));
    }
    next(err);
  }

  router.post(
    '/api/incidents/:id/attachments',
    authenticated(ctx.auth),
    (req: Request, res: Response, next: NextFunction) => {
      incidentFor(req, res);
      requireRole(userOf(res), 'responder');
      if (!req.is('multipart/form-data')) throw new HttpError(415, 'send the file as multipart/form-data in the field "file"');
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > maxUpload + MULTIPART_SLACK) {
        res.set('Connection', 'close');
        throw new HttpError(413, `the upload is over the ${Math.floor(maxUpload / 2 ** 20)} MiB limit`);
      }
      next();
    },
    upload,
    uploadErrors,
    async (req: Request, res: Response) => {
      const incident = incidentFor(req, res);
      const file = req.file as (Express.Multer.File & StoredUpload) | undefined;
      if (!file) throw new HttpError(400, 'no file: send it in the multipart field "file"', 'file');
      const attachment: Attachment = {
        id: newId(),
        incidentId: incident.id,
        name: safeFileName(file.originalname),
        size: file.size,
        sha256: file.sha256,
        kind: file.kind,
        mime: file.mime,
        uploadedBy: userOf(res).id,
        uploadedAt: new Date().toISOString(),
      };
      await deps.attachments.add(attachment);
      if (attachment.kind === 'capture') deps.analyses.start(attachment.sha256);
      res.status(201).json(present(attachment));
    },
  );

  const attachmentFor = (req: Request, res: Response): Attachment => {
    const attachment = deps.attachments.byId(String(req.params.id));
    if (!attachment || !visibleIncident(ctx.store, userOf(res), attachment.incidentId)) throw notFound('attachment');
    return attachment;
  };

  router.get('/api/incidents/:id/attachments', authenticated(ctx.auth), (req, res) => {
    res.json(deps.attachments.forIncident(incidentFor(req, res).id).map(present));
  });

  /**
   * The file, or one byte range of it (206; 416 past its end; several ranges get the whole file).
   * Its SHA-256 is its ETag: the bytes under an attachment never change.
   */
  router.get('/api/attachments/:id', authenticated(ctx.auth), async (req, res) => {
    const a = attachmentFor(req, res);
    const size = await deps.blobs.size(a.sha256);
    if (size === undefined) throw new HttpError(404, 'the file of this attachment is missing on the server');
    const inline = a.kind === 'image'; // raster images only: SVG and HTML are text, never rendered
    res.set({
      'Content-Type': inline ? a.mime : 'application/octet-stream',
      'Content-Disposition': contentDisposition(inline ? 'inline' : 'attachment', a.name),
      'Content-Security-Policy': "default-src 'none'; sandbox",
      'Cache-Control': 'private, max-age=31536000, immutable',
      'Accept-Ranges': 'bytes',
      ETag: `"${a.sha256}"`,
    });
    if (req.fresh) return void res.status(304).end();
    const ranges = req.range(size, { combine: true });
    if (ranges === -1) return void res.status(416).set('Content-Range', `bytes */${size}`).end();
    let range: ByteRange | undefined;
    if (ranges !== undefined && ranges !== -2 && ranges.type === 'bytes' && ranges.length === 1) {
      range = { start: ranges[0]!.start, end: ranges[0]!.end };
      res.status(206).set('Content-Range', `bytes ${range.start}-${range.end}/${size}`);
    }
    res.set('Content-Length', String(range ? range.end - range.start + 1 : size));
    if (req.method === 'HEAD') return void res.end();
    // A read that fails midway (or a client gone) ends the response cut short, as it must.
    pipeline(deps.blobs.read(a.sha256, range), res, () => undefined);
  });

  /**
   * `?capacityBps=` sets the link capacity for the bursts (default 1 Gbit/s); `?summary=1` leaves the
   * IO graph's buckets out (what the timeline needs: the time span and counts).
   */
  router.get('/api/attachments/:id/analysis', authenticated(ctx.auth), (req, res, next) => {
    const a = attachmentFor(req, res);
    if (a.kind !== 'capture') throw new HttpError(404, 'this attachment is not a packet capture');
    if (!deps.analyses.state(a.sha256)) deps.analyses.start(a.sha256);
    const capacityBps = req.query.capacityBps === undefined ? undefined : Number(req.query.capacityBps);
    if (capacityBps !== undefined && !(Number.isFinite(capacityBps) && capacityBps > 0)) {
      throw new HttpError(400, 'capacityBps: expected a link capacity in bits per second, e.g. 1000000000', 'capacityBps');
    }
    const summary = req.query.summary;
    if (summary !== undefined && summary !== '1' && summary !== '0') throw new HttpError(400, 'summary: expected 1 or 0', 'summary');
    const views = req.query.views;
    if (views !== undefined && views !== 'coarse' && views !== 'all') throw new HttpError(400, 'views: expected coarse or all', 'views');
    res.type('json');
    deps.analyses
      .answer(a.sha256, res, { capacityBytesPerMs: capacityBps && capacityBps / 8 / 1000, summaryOnly: summary === '1', coarseOnly: views === 'coarse' })
      .catch((err: Error) => (res.headersSent ? res.destroy(err) : next(err)));
  });

  /** `?fromMs=&toMs=`: a piece of a capture's 1 ms IO graph, ms from its first packet (at most ten minutes). */
  router.get('/api/attachments/:id/io', authenticated(ctx.auth), async (req, res) => {
    const a = attachmentFor(req, res);
    if (a.kind !== 'capture') throw new HttpError(404, 'this attachment is not a packet capture');
    const ms = (name: 'fromMs' | 'toMs') => {
      const value = req.query[name];
      const n = Number(value);
      if (typeof value !== 'string' || !/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new HttpError(400, `${name}: expected milliseconds from the first packet, e.g. 60000`, name);
      return n;
    };
    const fromMs = ms('fromMs');
    const toMs = ms('toMs');
    if (toMs <= fromMs || toMs - fromMs > MAX_WINDOW_MS) throw new HttpError(400, `toMs: expected after fromMs, by at most ${MAX_WINDOW_MS} ms`, 'toMs');
    try {
      res.json(await deps.analyses.window(a.sha256, fromMs, toMs));
    } catch (err) {
      if (err instanceof AnalysisNotDone) throw new HttpError(409, err.message);
      throw err;
    }
  });

  return router;
}
