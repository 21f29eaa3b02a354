/**
 * socket.io for app events (not document sync): live incident list changes and the server clock.
 * Sockets authenticate like HTTP requests (session cookie or `auth: {token}`); each joins a room
 * per user so restricted incidents are announced only to their members. A socket whose session or
 * token ended, or whose user was removed, is disconnected at once (access-changes.ts). With several
 * nodes an event reaches every node's sockets through Redis; events are hints — a client that
 * reconnects fetches the state again.
 */
import type http from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Server } from 'socket.io';
import type { Alert } from '../../shared/alerts.js';
import type { Incident } from '../../shared/model.js';
import { ClientEvent, ServerEvent, type CaptureAnalysisEvent, type ClientToServerEvents, type ServerToClientEvents } from '../../shared/events.js';
import { Paths } from '../../shared/protocol.js';
import type { AccessChanges } from '../auth/access-changes.js';
import type { Authenticator, Credential } from '../auth/authenticate.js';
import { hashToken } from '../auth/secrets.js';
import { tolerant } from '../storage/redis/redis-bus.js';
import { originAllowed } from '../auth/origin.js';
import { groupMember, isGroupMember } from '../../shared/members.js';

/** A member's room: `user:<id>`, or the group's own (`group:<name>`, joined by everyone in it). */
const memberRoom = (member: string) => (isGroupMember(member) ? member : `user:${member}`);
const groupRooms = (groups: readonly string[] | undefined) => (groups ?? []).map(groupMember);

export class AppEvents {
  readonly io: Server<ClientToServerEvents, ServerToClientEvents>;

  /**
   * @param redis In the several-node mode, the bus's two Redis connections: events reach the users'
   *   sockets on every node (@socket.io/redis-adapter), and no further connections are opened.
   */
  constructor(server: http.Server, auth: Authenticator, access: AccessChanges, allowedOrigins: string[], redis?: { pub: Redis; sub: Redis }, log?: Logger) {
    this.io = new Server(server, {
      path: Paths.events,
      serveClient: false,
      // The collaboration socket shares this HTTP server: leave its upgrades alone.
      destroyUpgrade: false,
      cors: allowedOrigins.length > 0 ? { origin: allowedOrigins, credentials: true } : undefined,
      // Same Origin rule as the collaboration socket: a page elsewhere cannot ride a session cookie.
      allowRequest: (req, callback) => callback(null, originAllowed(req, allowedOrigins)),
    });
    // The adapter leaves the promises of its Redis calls unhandled: with Redis away, a broadcast or
    // a shutdown would end the process. `tolerant` handles (and logs) them.
    if (redis) this.io.adapter(createAdapter(tolerant(redis.pub, log, 'app events'), tolerant(redis.sub, log, 'app events')));
    this.io.use((socket, next) => {
      const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
      const identity = typeof token === 'string' ? { credential: { kind: 'token' as const, hash: hashToken(token) } } : auth.identify(socket.request);
      const user = identity && auth.userOf(identity.credential);
      if (!identity || !user) return next(new Error('unauthenticated'));
      socket.data.userId = user.id;
      socket.data.credential = identity.credential;
      void socket.join([`user:${user.id}`, ...groupRooms(user.groups)]);
      next();
    });
    access.onChange(({ userId }) => {
      for (const socket of this.io.sockets.sockets.values()) {
        if (userId !== undefined && socket.data.userId !== userId) continue;
        const user = auth.userOf(socket.data.credential as Credential);
        if (!user) socket.disconnect(true);
        else {
          // The groups of the user's last sign-in: events of incidents restricted to a group follow them.
          const rooms = groupRooms(user.groups);
          for (const room of socket.rooms) if (isGroupMember(room) && !rooms.includes(room)) void socket.leave(room);
          void socket.join(rooms);
        }
      }
    });
    this.io.on('connection', (socket) => {
      socket.on(ClientEvent.clock, (ack) => {
        if (typeof ack === 'function') ack({ serverTime: Date.now() });
      });
    });
  }

  private audience(incident: Incident) {
    return incident.members ? this.io.to(incident.members.map(memberRoom)) : this.io;
  }

  incidentCreated(incident: Incident): void {
    this.audience(incident).emit(ServerEvent.incidentCreated, incident);
  }

  incidentUpdated(incident: Incident): void {
    this.audience(incident).emit(ServerEvent.incidentUpdated, incident);
  }

  /** Tells those who can no longer see an incident (it was restricted to others) to forget it. */
  incidentGone(incidentId: string, who: { users: string[] } | { everyoneBut: string[] }): void {
    const target = 'users' in who
      ? who.users.length > 0 ? this.io.to(who.users.map(memberRoom)) : undefined
      : this.io.except(who.everyoneBut.map(memberRoom));
    target?.emit(ServerEvent.incidentGone, { id: incidentId });
  }

  captureAnalysis(incident: Incident, event: CaptureAnalysisEvent): void {
    this.audience(incident).emit(ServerEvent.captureAnalysis, event);
  }

  /** To these users only, each of whom may see the alert as presented (AlertReceiver.announce). */
  alertChanged(alert: Alert, userIds: string[]): void {
    // `to([])` would be everyone.
    if (userIds.length > 0) this.io.to(userIds.map((id) => `user:${id}`)).emit(ServerEvent.alertChanged, alert);
  }

  close(): Promise<void> {
    return new Promise((resolve) => void this.io.close(() => resolve()));
  }
}
