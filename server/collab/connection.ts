/** One client on an incident's collaboration socket: who it is, what it may do, how to reach it. */
import type { Socket } from 'node:net';
import * as wsLibrary from 'ws';
import { WebSocket } from 'ws';
import type { Logger } from 'pino';
import type { User } from '../../shared/api.js';
import type { Credential } from '../auth/authenticate.js';

/** A reader this far behind is dropped; it resyncs in full when it reconnects. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

/** ws's own framing (`Sender.frame`), which its type definitions leave out. */
type FrameOptions = { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean };
const { frame } = (wsLibrary as unknown as { Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] } }).Sender;
const BINARY = 2;

/**
 * Messages for many sockets, framed once. A server's frames are unmasked, so every socket gets the
 * same bytes, written as one buffer: a broadcast to 2,000 readers skips ws's per-message work
 * (options, frame header, two writes under cork) 2,000 times. Several broadcasts joined are their
 * frames back to back, still one write per socket.
 */
export class Broadcast {
  private constructor(
    /** The messages, in order (sent one by one where frames cannot be shared). */
    readonly messages: readonly Uint8Array[],
    /** Their WebSocket frames, back to back. */
    readonly frame: Buffer,
  ) {}

  static of(message: Uint8Array): Broadcast {
    const data = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
    return new Broadcast([message], Buffer.concat(frame(data, { fin: true, opcode: BINARY, mask: false, readOnly: true, rsv1: false })));
  }

  static join(parts: readonly Broadcast[]): Broadcast {
    if (parts.length === 1) return parts[0]!;
    return new Broadcast(
      parts.flatMap((p) => p.messages),
      Buffer.concat(parts.map((p) => p.frame)),
    );
  }
}

export class Connection {
  /** Awareness client IDs this connection has announced (removed when it leaves). */
  readonly awarenessIds = new Set<number>();
  /** Sync requests of this connection waiting for its user's allowance (sync-pace.ts). */
  waitingSyncs = 0;
  /**
   * The TCP socket under ws, for writing broadcasts' frames to directly — only when no extension was
   * negotiated: with permessage-deflate, frames differ per socket and ws may hold messages back.
   */
  private readonly socket: Socket | undefined;

  constructor(
    readonly ws: WebSocket,
    readonly user: User,
    readonly canWrite: boolean,
    readonly log: Logger,
    readonly incidentId: string,
    /** What it authenticated with: checked again when access changes (access-changes.ts). */
    readonly credential: Credential,
  ) {
    this.socket = ws.extensions === '' ? (ws as unknown as { _socket: Socket })._socket : undefined;
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(message: Uint8Array | Broadcast): void {
    if (!this.open) return;
    if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.log.warn({ user: this.user.name, buffered: this.ws.bufferedAmount }, 'dropping a reader that fell too far behind');
      this.ws.terminate();
      return;
    }
    if (!(message instanceof Broadcast)) this.ws.send(message);
    else if (this.socket) this.socket.write(message.frame);
    else for (const m of message.messages) this.ws.send(m);
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
  }
}
