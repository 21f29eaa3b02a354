/** The server's app events (socket.io), typed by the event names both sides share. */
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../shared/events';
import { Paths } from '../../shared/protocol';

export type AppEvents = Socket<ServerToClientEvents, ClientToServerEvents>;

export function connectAppEvents(): AppEvents {
  return io({ path: Paths.events, withCredentials: true });
}
