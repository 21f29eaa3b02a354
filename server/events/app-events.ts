/**
 * socket.io for app events (not document sync): live incident list changes and the server clock.
 * Sockets authenticate like HTTP requests (session cookie or `auth: {token}`); each joins a room
 * per user so restricted incidents are announced only to their members.
 */
import type http from 'node:http';
import { Server } from 'socket.io';
import type { Alert } from '../../shared/alerts.js';
import type { Incident } from '../../shared/model.js';
import { ClientEvent, ServerEvent, type CaptureAnalysisEvent, type ClientToServerEvents, type ServerToClientEvents } from '../../shared/events.js';
import { Paths } from '../../shared/protocol.js';
import type { Authenticator } from '../auth/authenticate.js';
import { originAllowed } from '../auth/origin.js';

export class AppEvents {
  readonly io: Server<ClientToServerEvents, ServerToClientEvents>;

  constructor(server: http.Server, auth: Authenticator, allowedOrigins: string[]) {
    this.io = new Server(server, {
      path: Paths.events,
      serveClient: false,
      // The collaboration socket shares this HTTP server: leave its upgrades alone.
      destroyUpgrade: false,
      cors: allowedOrigins.length > 0 ? { origin: allowedOrigins, credentials: true } : undefined,
      // Same Origin rule as the collaboration socket: a page elsewhere cannot ride a session cookie.
      allowRequest: (req, callback) => callback(null, originAllowed(req, allowedOrigins)),
    });
    this.io.use((socket, next) => {
      const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
      const user = typeof token === 'string' ? auth.byToken(token) : auth.fromRequest(socket.request);
      if (!user) return next(new Error('unauthenticated'));
      socket.data.userId = user.id;
      void socket.join(`user:${user.id}`);
      next();
    });
    this.io.on('connection', (socket) => {
      socket.on(ClientEvent.clock, (ack) => {
        if (typeof ack === 'function') ack({ serverTime: Date.now() });
      });
    });
  }

  private audience(incident: Incident) {
    return incident.members ? this.io.to(incident.members.map((id) => `user:${id}`)) : this.io;
  }

  incidentCreated(incident: Incident): void {
    this.audience(incident).emit(ServerEvent.incidentCreated, incident);
  }

  incidentUpdated(incident: Incident): void {
    this.audience(incident).emit(ServerEvent.incidentUpdated, incident);
  }

  captureAnalysis(incident: Incident, event: CaptureAnalysisEvent): void {
    this.audience(incident).emit(ServerEvent.captureAnalysis, event);
  }

  /** `audience`: everyone signed in, or only these users (members of a restricted incident). */
  alertChanged(alert: Alert, audience: 'everyone' | string[]): void {
    (audience === 'everyone' ? this.io : this.io.to(audience.map((id) => `user:${id}`))).emit(ServerEvent.alertChanged, alert);
  }

  close(): Promise<void> {
    return new Promise((resolve) => void this.io.close(() => resolve()));
  }
}
