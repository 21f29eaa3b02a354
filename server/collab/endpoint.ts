/**
 * The collaboration socket, `/collab/<incidentId>`. Everything is checked at the upgrade — Origin,
 * authentication, the incident's existence and visibility — so no document is loaded for a request
 * that will be refused. Refusals before the upgrade are plain HTTP (403, 401); an unknown incident
 * is a socket closed with 4404, and a browser without a valid session one closed with 4401, which
 * browsers can see. A user whose connections keep being refused is held back here, or answered 429
 * (refusals.ts).
 *
 * Access is checked again whenever it may have been taken away (access-changes.ts): a socket whose
 * session or token ended, or whose user was removed, is closed with 4401; one whose incident was
 * restricted to others with 4404; a writer made a viewer with 4403.
 *
 * The time spent handling what a connection sends is charged to its user (time-share.ts): a user who
 * sends costly frames faster than their share waits, not everyone else.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import { CloseCode, Paths } from '../../shared/protocol.js';
import type { AccessChange, AccessChanges } from '../auth/access-changes.js';
import { Authenticator, hasRole, publicUser, visibleIncident } from '../auth/authenticate.js';
import { originAllowed } from '../auth/origin.js';
import type { MetadataStore } from '../store/metadata.js';
import type { Metrics } from '../metrics.js';
import { isStorageUnavailable, type Readiness } from '../storage/storage.js';
import { Connection } from './connection.js';
import type { IncidentRooms } from './incident-rooms.js';
import type { Refusals } from './refusals.js';
import type { TimeShare } from './time-share.js';

export interface CollabEndpointOptions {
  server: http.Server;
  auth: Authenticator;
  access: AccessChanges;
  store: MetadataStore;
  rooms: IncidentRooms;
  /** Paces new connections of users whose connections keep being refused. */
  refusals: Refusals;
  /** Each user's share of the server's time, charged what handling their connections' frames takes. */
  timeShare: TimeShare;
  metrics: Metrics;
  log: Logger;
  allowedOrigins: string[];
  maxMessageBytes: number;
  /** Sockets one user may have open at once; another is closed with 4429. */
  maxSocketsPerUser: number;
  /** Whether the storage can be reached: if not, new sockets are refused (503, or closed with 4503). */
  readiness: () => Readiness;
  /**
   * Waits (bounded) until this node's catalog has what other nodes just committed: asked before a
   * token or incident this node does not know is refused (Storage.catalogCaughtUp).
   */
  catalogCaughtUp?: () => Promise<void>;
  /**
   * Called when a user's last connection to an incident closes: the last durable record then, and how
   * long that connection was open (ms).
   */
  onUserLeft?: (incidentId: string, userId: string, seq: number, stayedMs: number) => void;
}

const KEEPALIVE_MS = 30_000;

function refuse(socket: Duplex, status: number, message: string, headers = ''): void {
  socket.end(`HTTP/1.1 ${status} ${message}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\n${headers}\r\n${message}`);
}

export function attachCollabEndpoint(opts: CollabEndpointOptions): { close(): void } {
  // ws closes with 1009 above maxPayload; below it, our own check answers 4413 with a reason.
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxMessageBytes * 2 });
  const prefix = `${Paths.collab}/`;
  const open = new Set<Connection>();
  const socketsOf = new Map<string, number>();

  opts.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith(prefix)) return; // another endpoint's (socket.io)
    if (!originAllowed(req, opts.allowedOrigins)) {
      opts.metrics.rejected.inc({ reason: 'foreign origin' });
      return refuse(socket, 403, 'Forbidden: origin not allowed');
    }
    void admit(req, socket, head, url).catch((err) => {
      opts.log.error({ err }, 'could not admit a collaboration socket');
      if (!socket.destroyed) refuse(socket, 500, 'Internal Server Error');
    });
  });

  /**
   * Authenticates the upgrade and finds its incident. A token or incident this node does not know
   * may have been created on another node a moment ago (several nodes): the catalog catches up once
   * before the socket is refused, since a 4404 tells the stock provider to stop reconnecting.
   */
  async function admit(req: http.IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> {
    let identity = opts.auth.identify(req, true);
    let incidentId: string;
    try {
      incidentId = decodeURIComponent(url.pathname.slice(prefix.length));
    } catch {
      incidentId = '';
    }
    if (opts.catalogCaughtUp && (!identity || !visibleIncident(opts.store, identity.user, incidentId))) {
      await opts.catalogCaughtUp();
      if (socket.destroyed) return;
      identity = opts.auth.identify(req, true);
    }
    if (!identity) {
      opts.metrics.rejected.inc({ reason: 'unauthenticated' });
      // A browser whose session expired cannot read an HTTP status from a failed upgrade, only a
      // close code: give it 4401 so the page can ask to log in again. Tokens get a plain 401.
      const sentToken = url.searchParams.has('token') || req.headers.authorization !== undefined;
      if (req.headers.origin && !sentToken) {
        return wss.handleUpgrade(req, socket, head, (ws) => ws.close(CloseCode.unauthenticated, 'log in again'));
      }
      return refuse(socket, 401, 'Unauthorized: a valid token or session is required');
    }
    if (!opts.readiness().ok) {
      opts.metrics.rejected.inc({ reason: 'storage unavailable' });
      if (req.headers.origin) return wss.handleUpgrade(req, socket, head, (ws) => ws.close(CloseCode.storageUnavailable, 'storage unavailable'));
      return refuse(socket, 503, 'Service Unavailable: storage unavailable, nothing can be saved; retry shortly', 'Retry-After: 2\r\n');
    }
    const { user, credential } = identity;
    const upgrade = () => {
      const incident = visibleIncident(opts.store, user, incidentId);
      wss.handleUpgrade(req, socket, head, (ws) => {
        if (!incident) {
          opts.metrics.rejected.inc({ reason: 'no such incident' });
          ws.close(CloseCode.notFound, 'no such incident');
          return;
        }
        const count = socketsOf.get(user.id) ?? 0;
        if (count >= opts.maxSocketsPerUser) {
          opts.metrics.rejected.inc({ reason: 'too many sockets' });
          ws.close(CloseCode.tooManyRequests, `too many open connections (${opts.maxSocketsPerUser} per user)`);
          return;
        }
        const conn = new Connection(ws, publicUser(user), hasRole(user, 'responder'), opts.log, incident.id, credential);
        open.add(conn);
        socketsOf.set(user.id, count + 1);
        ws.once('close', () => {
          open.delete(conn);
          const left = (socketsOf.get(user.id) ?? 1) - 1;
          if (left > 0) socketsOf.set(user.id, left);
          else socketsOf.delete(user.id);
        });
        void serve(conn, incident.id, opts);
      });
    };
    const admission = opts.refusals.admission(user.id);
    if (admission.admit === 'now') return upgrade();
    if (admission.admit === 'never') {
      opts.metrics.rejected.inc({ reason: 'too many refusals' });
      return refuse(socket, 429, 'Too Many Requests: too many of your connections were refused; retry later', `Retry-After: ${admission.retryAfterS}\r\n`);
    }
    // Held back: the socket waits, parked, and goes ahead unless its client gave up meanwhile.
    const release = () => opts.refusals.release(user.id);
    const timer = setTimeout(() => {
      socket.off('close', gaveUp);
      release();
      if (!socket.destroyed) upgrade();
    }, admission.waitMs);
    timer.unref(); // a held connection does not keep a stopping server alive
    const gaveUp = () => {
      clearTimeout(timer);
      release();
    };
    socket.once('close', gaveUp);
  }

  opts.access.onChange((change) => {
    for (const conn of open) if (affects(change, conn)) recheck(conn, opts);
  });

  const keepalive = setInterval(() => {
    for (const ws of wss.clients) {
      const alive = ws as WebSocket & { alive?: boolean };
      if (alive.alive === false) ws.terminate();
      else {
        alive.alive = false;
        ws.ping();
      }
    }
  }, KEEPALIVE_MS);
  keepalive.unref();

  return {
    close() {
      clearInterval(keepalive);
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}

const affects = (change: AccessChange, conn: Connection) =>
  (change.userId === undefined || change.userId === conn.user.id) && (change.incidentId === undefined || change.incidentId === conn.incidentId);

/** Closes `conn` if what it was allowed at connection time is no longer so. */
function recheck(conn: Connection, opts: CollabEndpointOptions): void {
  const user = opts.auth.userOf(conn.credential);
  if (!user) return conn.close(CloseCode.unauthenticated, 'signed out or access revoked: log in again');
  if (!visibleIncident(opts.store, user, conn.incidentId)) return conn.close(CloseCode.notFound, 'no such incident');
  if (conn.canWrite && !hasRole(user, 'responder')) conn.close(CloseCode.forbidden, `your role is now ${user.role}: read-only`);
}

async function serve(conn: Connection, incidentId: string, opts: CollabEndpointOptions): Promise<void> {
  const { ws } = conn;
  // Frames wait here, in order, while the document loads and while their user has used up their share
  // of the server's time (the socket stops reading meanwhile, so the queue stays short).
  const inbox: Uint8Array[] = [];
  let room: Awaited<ReturnType<IncidentRooms['open']>> | undefined;
  let waiting: NodeJS.Timeout | undefined;
  let closed = false;
  const openedAt = performance.now();
  const handleInbox = () => {
    waiting = undefined;
    while (room && inbox.length > 0 && !closed) {
      const waitMs = opts.timeShare.waitMs(conn.user.id);
      if (waitMs > 0) {
        ws.pause();
        waiting = setTimeout(handleInbox, waitMs);
        waiting.unref();
        return;
      }
      const started = performance.now();
      room.receive(conn, inbox.shift()!);
      opts.timeShare.charge(conn.user.id, performance.now() - started);
    }
    if (ws.isPaused) ws.resume();
  };
  ws.binaryType = 'nodebuffer';
  ws.on('pong', () => ((ws as WebSocket & { alive?: boolean }).alive = true));
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    inbox.push(isBinary ? data : new Uint8Array(0)); // text frames are not part of the protocol
    if (!waiting) handleInbox();
  });
  ws.on('close', () => {
    closed = true;
    clearTimeout(waiting);
    opts.metrics.connections.dec();
    if (!room) return;
    room.leave(conn);
    if (!room.hasUser(conn.user.id)) opts.onUserLeft?.(incidentId, conn.user.id, room.lastSeq, performance.now() - openedAt);
  });
  ws.on('error', (err) => conn.log.debug({ err }, 'collaboration socket error'));
  opts.metrics.connections.inc();
  try {
    const opened = await opts.rooms.open(incidentId);
    if (closed) return;
    room = opened;
    room.join(conn);
    handleInbox();
  } catch (err) {
    if (isStorageUnavailable(err)) {
      opts.log.warn({ incident: incidentId, err: (err as Error).message }, 'could not load the incident document: storage unavailable');
      return conn.close(CloseCode.storageUnavailable, 'storage unavailable');
    }
    opts.log.error({ err, incident: incidentId }, 'could not load the incident document');
    conn.close(CloseCode.internalError, 'could not load the incident');
  }
}
