/**
 * A minimal WebSocket client (RFC 6455) for the load generators. Reads land in one buffer shared by
 * the process's sockets (net's `onread`: no 'data' events, no Buffer per read); every frame of a read
 * is parsed in one loop, stamped with one arrival time (when the bytes reached this process) and
 * handed over as a view, valid during the call. In a 2,000-reader run the reader processes used about
 * 15 % less CPU than with the `ws` client, and `onread` took a further ~25 % off (200 readers: 4 % →
 * 3 % of a core per process) — CPU the server under test, on the same 2 cores, gets instead. Most of
 * what remains is the kernel's cost of each read.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import { now } from './wire.js';

const EMPTY: Buffer = Buffer.alloc(0);
/** Frames bigger than this are collected chunk by chunk and joined once (a document's full state). */
const COLLECT_ABOVE = 1 << 16;
const READ_BUFFER = Buffer.allocUnsafe(1 << 16);

const OP_BINARY = 0x2;
const OP_TEXT = 0x1;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

export class RawSocket {
  /** A whole message; `at` is when the TCP read holding its last byte reached this process. */
  onmessage: (data: Buffer, at: number) => void = () => undefined;
  onclose: () => void = () => undefined;
  closed = false;

  private head = EMPTY;
  private collecting: Buffer[] = [];
  private collected = 0;
  private want = 0;

  private constructor(private readonly socket: net.Socket) {
    socket.on('close', () => {
      this.closed = true;
      this.onclose();
    });
    socket.on('error', () => undefined); // 'close' follows
  }

  /** Connects and completes the upgrade; rejects with the HTTP status line if refused. */
  static open(url: string): Promise<RawSocket> {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
      let ws: RawSocket | undefined;
      let response = EMPTY;
      // Reads land in one buffer shared by every socket of the process, handed over with no stream
      // machinery ('data' events, a Buffer per read); what must outlive a read is copied.
      const socket = net.connect({
        host: u.hostname,
        port: Number(u.port),
        noDelay: true,
        onread: {
          buffer: READ_BUFFER,
          callback: (nread: number): boolean => {
            const buf = READ_BUFFER.subarray(0, nread);
            if (ws) {
              ws.onData(buf);
              return true;
            }
            response = Buffer.concat([response, buf]);
            const end = response.indexOf('\r\n\r\n');
            if (end < 0) return true;
            socket.off('error', reject);
            const status = response.toString('latin1', 0, response.indexOf('\r\n'));
            if (!/^HTTP\/1\.1 101 /.test(status)) {
              socket.destroy();
              reject(new Error(`upgrade refused: ${status}`));
              return false;
            }
            ws = new RawSocket(socket);
            resolve(ws);
            if (end + 4 < response.length) ws.onData(response.subarray(end + 4));
            return true;
          },
        },
      });
      socket.once('error', reject);
      socket.write(
        `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
  }

  send(data: Uint8Array, opcode = OP_BINARY): void {
    if (this.closed) return;
    const len = data.length;
    const lenBytes = len < 126 ? 0 : len < 65536 ? 2 : 8;
    const frame = Buffer.allocUnsafe(2 + lenBytes + 4 + len);
    frame[0] = 0x80 | opcode;
    frame[1] = 0x80 | (lenBytes === 0 ? len : lenBytes === 2 ? 126 : 127);
    if (lenBytes === 2) frame.writeUInt16BE(len, 2);
    if (lenBytes === 8) frame.writeBigUInt64BE(BigInt(len), 2);
    // Clients must mask; any key will do for a server, so one per frame from Math.random is enough.
    const at = 2 + lenBytes;
    const mask = [0, 1, 2, 3].map(() => (Math.random() * 256) | 0);
    for (let i = 0; i < 4; i++) frame[at + i] = mask[i]!;
    for (let i = 0; i < len; i++) frame[at + 4 + i] = data[i]! ^ mask[i & 3]!;
    this.socket.write(frame);
  }

  /** A close frame (1000), then the end of the TCP stream. */
  close(): void {
    if (this.closed) return;
    this.send(Uint8Array.of(0x03, 0xe8), OP_CLOSE);
    this.socket.end();
  }

  terminate(): void {
    this.socket.destroy();
  }

  /** `chunk` is only valid during the call (the shared read buffer): whatever is kept is copied. */
  private onData(chunk: Buffer): void {
    const at = now();
    if (this.want > 0) {
      this.collecting.push(Buffer.from(chunk));
      this.collected += chunk.length;
      if (this.collected < this.want) return;
      this.head = Buffer.concat(this.collecting, this.collected);
      this.collecting = [];
      this.collected = 0;
      this.want = 0;
    } else {
      this.head = this.head.length > 0 ? Buffer.concat([this.head, chunk]) : chunk;
    }
    const buf = this.head;
    let pos = 0;
    while (buf.length - pos >= 2) {
      const b0 = buf[pos]!;
      let len = buf[pos + 1]! & 0x7f;
      let header = 2;
      if (len === 126) {
        if (buf.length - pos < 4) break;
        len = buf.readUInt16BE(pos + 2);
        header = 4;
      } else if (len === 127) {
        if (buf.length - pos < 10) break;
        len = Number(buf.readBigUInt64BE(pos + 2));
        header = 10;
      }
      if (buf.length - pos < header + len) {
        if (header + len > COLLECT_ABOVE) {
          this.want = header + len;
          this.collecting = [Buffer.from(buf.subarray(pos))];
          this.collected = buf.length - pos;
          this.head = EMPTY;
          return;
        }
        break;
      }
      const payload = buf.subarray(pos + header, pos + header + len);
      pos += header + len;
      // Servers send whole, unmasked messages (none of the three fragments what it sends).
      switch (b0 & 0x0f) {
        case OP_BINARY:
        case OP_TEXT:
          this.onmessage(payload, at);
          break;
        case OP_PING:
          this.send(payload, OP_PONG);
          break;
        case OP_CLOSE:
          this.socket.end();
          break;
      }
    }
    this.head = pos < buf.length ? Buffer.from(buf.subarray(pos)) : EMPTY;
  }
}
