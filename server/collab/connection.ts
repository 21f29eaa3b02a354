/** One client on an incident's collaboration socket: who it is, what it may do, how to reach it. */
import { WebSocket } from 'ws';
import type { Logger } from 'pino';
import type { User } from '../../shared/api.js';

/** A reader this far behind is dropped; it resyncs in full when it reconnects. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

export class Connection {
  /** Awareness client IDs this connection has announced (removed when it leaves). */
  readonly awarenessIds = new Set<number>();

  constructor(
    readonly ws: WebSocket,
    readonly user: User,
    readonly canWrite: boolean,
    readonly log: Logger,
  ) {}

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(frame: Uint8Array): void {
    if (!this.open) return;
    if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.log.warn({ user: this.user.name, buffered: this.ws.bufferedAmount }, 'dropping a reader that fell too far behind');
      this.ws.terminate();
      return;
    }
    this.ws.send(frame);
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
  }
}
