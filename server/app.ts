/**
 * Puts the server together: storage, auth, the HTTP API, the collaboration socket and app events,
 * all on one http.Server. `startServer` is what `npm start` and every test call.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import express from 'express';
import type { Logger } from 'pino';
import { CloseCode } from '../shared/protocol.js';
import { newId } from '../shared/schema/doc.js';
import { AlertReceiver } from './alerts/alert-receiver.js';
import { CaptureAnalyses } from './capture/capture-analyses.js';
import { AccessChanges } from './auth/access-changes.js';
import { Authenticator } from './auth/authenticate.js';
import { originAllowed } from './auth/origin.js';
import { hashToken } from './auth/secrets.js';
import { attachCollabEndpoint } from './collab/endpoint.js';
import { IncidentRooms } from './collab/incident-rooms.js';
import { Refusals } from './collab/refusals.js';
import { SyncPace } from './collab/sync-pace.js';
import { TimeShare } from './collab/time-share.js';
import type { Config } from './config.js';
import { AppEvents } from './events/app-events.js';
import { Authorship } from './history/authorship.js';
import { Replays } from './history/replay.js';
import { followIncidentChange } from './incidents/incident-commands.js';
import { createLogger } from './log.js';
import { Metrics } from './metrics.js';
import { alertRoutes } from './routes/alert-routes.js';
import { attachmentRoutes } from './routes/attachment-routes.js';
import { exportRoutes } from './routes/export-routes.js';
import { SetupToken, authRoutes } from './routes/auth-routes.js';
import { signInRoutes } from './routes/sign-in-routes.js';
import { deviceLoginRoutes } from './routes/device-login-routes.js';
import { tokenAdminRoutes } from './routes/token-admin-routes.js';
import { catchUpBeforeRefusing, type RouteContext } from './routes/context.js';
import { HttpError, errorHandler } from './routes/http-error.js';
import { incidentRoutes } from './routes/incident-routes.js';
import { milestoneRoutes } from './routes/milestone-routes.js';
import { notificationRoutes } from './routes/notification-routes.js';
import { Notifications } from './notifications/notifications.js';
import { overviewRoutes } from './routes/overview-routes.js';
import { replayRoutes } from './routes/replay-routes.js';
import { searchRoutes } from './routes/search-routes.js';
import { systemRoutes } from './routes/system-routes.js';
import { userRoutes } from './routes/user-routes.js';
import { inviteRoutes } from './routes/invite-routes.js';
import { SearchIndexer } from './search/search-indexer.js';
import { SearchService } from './search/search-service.js';
import { openStorage } from './storage/open-storage.js';
import { isRedisBus } from './storage/redis/redis-bus.js';
import { catalogCaughtUpWithin, type Storage } from './storage/storage.js';
import type { MetadataStore } from './store/metadata.js';

export interface RunningServer {
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  port: number;
  /** First-run setup URL, when the server has no users and no bootstrap token was given. */
  setupUrl?: string;
  store: MetadataStore;
  rooms: IncidentRooms;
  log: Logger;
  /** Graceful shutdown: flushes every log, checkpoints, closes sockets with 1001 "going away". */
  close(): Promise<void>;
}

async function bootstrapAdmin(store: MetadataStore, token: string, log: Logger): Promise<void> {
  const createdAt = new Date().toISOString();
  const admin = { id: newId(), name: 'admin', role: 'admin' as const, createdAt };
  try {
    await store.addUser(admin);
  } catch (err) {
    // Several nodes starting on an empty database: another one made the admin first.
    if ((err as { code?: string }).code === '23505') return void log.info('the admin user was created by another node');
    throw err;
  }
  await store.addToken({ id: newId(), userId: admin.id, name: 'bootstrap token', tokenHash: hashToken(token), createdAt });
  log.info('created the admin user "admin" with the bootstrap token');
}

/** The web app loads only its own scripts and talks only to this server. */
const APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self' ws: wss:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

function securityHeaders(_req: express.Request, res: express.Response, next: express.NextFunction): void {
  res.set({
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
  });
  next();
}

export async function startServer(config: Config, log: Logger = createLogger(config.logLevel)): Promise<RunningServer> {
  const storage: Storage = await openStorage(config, log);
  const { store, alerts, attachments, seen } = storage.catalog;
  const blobs = storage.blobs;
  const setup = new SetupToken();
  let setupToken: string | undefined;
  if (store.countUsers() === 0) {
    if (config.bootstrapToken) await bootstrapAdmin(store, config.bootstrapToken, log);
    else setupToken = setup.issue();
  }

  const metrics = new Metrics();
  const auth = new Authenticator(store);
  // Several nodes: what another node created a moment ago is waited for, not refused.
  if (storage.mode === 'postgres') catchUpBeforeRefusing(auth, store, () => catalogCaughtUpWithin(storage));
  const access = new AccessChanges();
  // Each user gets a share of the server's time for what grows with what they ask, twice: once for
  // their collaboration frames, once for their exports and history reads. Apart, because the page's
  // own reads on opening a large incident (a first visit's catch-up from the declaration took 9 s of
  // a loaded machine) would otherwise hold back that user's live document for half a minute.
  const timeShare = new TimeShare(config.timeShare);
  const frameShare = new TimeShare(config.timeShare);
  const app = express();
  const server = http.createServer(app);
  // A request line or headers too long for Node's parser (a 100 KB search in a URL) gets a reason, not an empty 431.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const [status, error] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? ['431 Request Header Fields Too Large', 'the request line or headers are too long (at most 16 KB): send long input in a POST body']
        : ['400 Bad Request', 'malformed HTTP request'];
    const body = JSON.stringify({ error });
    socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
  const events = new AppEvents(server, auth, access, config.allowedOrigins, isRedisBus(storage.bus) ? storage.bus : undefined, log);
  const refusals = new Refusals(config.refusalPace);
  // Sockets on this node whose access another node took away (PostgreSQL mode) are checked again.
  storage.onRemoteAccessChange((change) => access.changed(change));
  const rooms: IncidentRooms = new IncidentRooms({
    logs: storage.logs,
    bus: config.redisUrl ? storage.bus : undefined,
    idleUnloadMs: config.idleUnloadMs,
    checkpointEvery: config.checkpointEvery,
    maxMessageBytes: config.maxMessageBytes,
    log,
    metrics,
    refusals,
    syncPace: new SyncPace(config.syncPace),
    onMetaChange: (incidentId, change) =>
      void followIncidentChange({ store, events, rooms }, incidentId, change).catch((err) => log.error({ err }, 'could not mirror incident metadata')),
  });
  storage.onReadinessChange(({ ok }) => {
    if (!ok) rooms.closeEvery(CloseCode.storageUnavailable, 'storage unavailable');
  });
  const collab = attachCollabEndpoint({
    server, auth, access, store, rooms, metrics, log, refusals,
    maxSocketsPerUser: config.maxSocketsPerUser,
    readiness: () => storage.readiness(),
    catalogCaughtUp: storage.mode === 'postgres' ? () => catalogCaughtUpWithin(storage) : undefined,
    timeShare: frameShare,
    allowedOrigins: config.allowedOrigins,
    maxMessageBytes: config.maxMessageBytes,
    // A visit too short to have read anything (a reload, a glance) keeps the earlier mark, so the
    // "since you left" digest is still there when the page comes back.
    onUserLeft: (incidentId, userId, seq, stayedMs) => {
      if (stayedMs < config.seenAfterMs) return;
      void seen.set(userId, incidentId, { seq, at: new Date().toISOString() }).catch((err) => log.error({ err }, 'could not remember where a user left'));
    },
  });

  const alertReceiver = new AlertReceiver(alerts, store, events, log);
  const analyses = new CaptureAnalyses(path.join(config.dataDir, storage.jobs ? 'analysis-cache' : 'analyses'), blobs, log, (sha256, state) => {
    for (const a of attachments.all().filter((x) => x.sha256 === sha256)) {
      const incident = store.incidentById(a.incidentId);
      const progress = state.status === 'running' ? { bytesRead: state.bytesRead, totalBytes: state.totalBytes } : {};
      if (incident) events.captureAnalysis(incident, { attachmentId: a.id, incidentId: a.incidentId, status: state.status, ...progress });
    }
  },
  // Several nodes: an analysis is claimed by one of them and its result shared through PostgreSQL.
  storage.jobs ? { shared: { jobs: storage.jobs, nodeId: `${config.nodeId}/${randomBytes(3).toString('hex')}` } } : {});
  // Search (#19): the index follows every incident's committed changes and its alerts.
  const searchIndexer = new SearchIndexer({ engine: storage.search, rooms, store, alerts, attachments, log, delayMs: config.searchDelayMs });
  alertReceiver.onChange((record) => {
    for (const id of new Set([...record.incidents, ...(record.links ?? []).map((l) => l.incidentId)])) searchIndexer.schedule(id);
  });
  searchIndexer.start();
  const search = new SearchService(storage.search, searchIndexer, store, alerts);
  // Notifications (#20): derived from the history into a durable outbox, sent off the hot path.
  let serverUrl = '';
  const notifications = await Notifications.start({ config, notify: config.notify, serverUrl: () => serverUrl, logs: storage.logs, rooms, metadata: store, alerts, log, store: storage.notifications });
  alertReceiver.onChange((record) => {
    for (const id of new Set([...record.incidents, ...(record.links ?? []).map((l) => l.incidentId)])) notifications.deriver.follow(id);
  });
  const replays = new Replays();
  const ctx: RouteContext = { config, store, auth, rooms, events, metrics, log, alerts, alertReceiver, authorship: new Authorship(), replays, seen, access, timeShare, storage };
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.use(securityHeaders);
  // A browser page from another origin may not use this API (with the session cookie or at all).
  app.use('/api', (req, _res, next) => next(originAllowed(req, config.allowedOrigins) ? undefined : new HttpError(403, 'origin not allowed')));
  // Without reachable storage nothing can be saved: say so at once, rather than after a connect timeout.
  app.use('/api', (req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD' || storage.readiness().ok) return next();
    res.set('Retry-After', '2');
    next(new HttpError(503, 'storage unavailable: nothing was saved; try again shortly'));
  });
  app.use(express.json({ limit: '1mb' }));
  app.use(systemRoutes(ctx));
  app.use(signInRoutes(ctx, () => serverUrl)); // before authRoutes: LOCAL_LOGIN=false, IdP logout (#17)
  app.use(authRoutes(ctx, setup));
  app.use(deviceLoginRoutes(ctx, () => serverUrl));
  app.use(tokenAdminRoutes(ctx));
  app.use(userRoutes(ctx));
  app.use(inviteRoutes(ctx));
  app.use(overviewRoutes(ctx)); // before incidentRoutes: GET /api/incidents with filters
  app.use(incidentRoutes(ctx));
  app.use(milestoneRoutes(ctx));
  app.use(alertRoutes(ctx));
  app.use(attachmentRoutes(ctx, { attachments, blobs, analyses, uploadLimits: config.uploadLimits }));
  app.use(replayRoutes(ctx));
  app.use(searchRoutes(ctx, search, searchIndexer));
  app.use(notificationRoutes(ctx, notifications, config.notify));
  app.use(exportRoutes(ctx, { attachments, blobs, analyses }));
  app.use('/api', (_req, _res, next) => next(new HttpError(404, 'no such API endpoint')));
  if (config.clientDir && fs.existsSync(path.join(config.clientDir, 'index.html'))) {
    const index = path.join(config.clientDir, 'index.html');
    app.use(express.static(config.clientDir, { index: false, maxAge: '1h' }));
    // The web app routes on the client: every other page GET gets its page. A missing file (an old
    // asset after a redeploy) is a 404, not HTML under a script's name.
    app.get(/^[^.]*$/, (_req, res) => res.set('Content-Security-Policy', APP_CSP).sendFile(index));
  }
  app.use(errorHandler(log));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  }).catch(async (err) => {
    await searchIndexer.close();
    await notifications.close();
    await analyses.close();
    await storage.close();
    throw err;
  });
  const port = (server.address() as { port: number }).port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  serverUrl = url;
  const setupUrl = setupToken ? `${url}/setup?token=${encodeURIComponent(setupToken)}` : undefined;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      await rooms.closeAll();
      collab.close();
      await events.close();
      server.closeAllConnections();
      await stopped;
      replays.close();
      await searchIndexer.close();
      await notifications.close();
      await analyses.close();
      await storage.close();
    })());

  return { url, port, setupUrl, store, rooms, log, close };
}
