/** A broadcast is framed once and written to every socket as is; a client sees ordinary binary messages. */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import pino from 'pino';
import { Broadcast, Connection } from '../../server/collab/connection.js';

const servers: WebSocketServer[] = [];
afterEach(() => {
  for (const wss of servers.splice(0)) {
    for (const ws of wss.clients) ws.terminate();
    wss.close();
  }
});

/** A server-side Connection and the client at the other end, with `perMessageDeflate` on both or neither. */
async function pair(perMessageDeflate: boolean): Promise<{ conn: Connection; client: WebSocket }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate });
  servers.push(wss);
  await new Promise((resolve) => wss.once('listening', resolve));
  const accepted = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { perMessageDeflate });
  const ws = await accepted;
  await new Promise((resolve) => client.once('open', resolve));
  return { conn: new Connection(ws, { id: 'u1', name: 'alice', role: 'responder' }, true, pino({ level: 'silent' }), 'incident1', { kind: 'token', hash: 'x' }), client };
}

function received(client: WebSocket, count: number): Promise<Array<{ data: Buffer; isBinary: boolean }>> {
  const out: Array<{ data: Buffer; isBinary: boolean }> = [];
  return new Promise((resolve) =>
    client.on('message', (data: Buffer, isBinary: boolean) => {
      out.push({ data, isBinary });
      if (out.length === count) resolve(out);
    }),
  );
}

describe('Broadcast', () => {
  it.each([
    ['written to the socket directly', false],
    ['sent through ws when permessage-deflate is on', true],
  ])('arrives as the same binary messages, in order with ordinary sends: %s', async (_, deflate) => {
    const { conn, client } = await pair(deflate);
    expect(client.extensions).toBe(deflate ? 'permessage-deflate' : '');
    const small = new Uint8Array([0, 2, 3, 1, 2, 3]);
    const large = new Uint8Array(70_000).map((_, i) => i % 251); // a 64-bit length in the frame header
    const messages = received(client, 3);

    conn.send(Broadcast.of(small));
    conn.send(new Uint8Array([100, 1, 0]));
    conn.send(Broadcast.of(large));

    const got = await messages;
    expect(got.every((m) => m.isBinary)).toBe(true);
    expect(got.map((m) => new Uint8Array(m.data))).toEqual([small, new Uint8Array([100, 1, 0]), large]);
  });

  it.each([
    ['written to the socket at once', false],
    ['sent through ws one by one when permessage-deflate is on', true],
  ])('joined, arrives as the same messages one after another: %s', async (_, deflate) => {
    const { conn, client } = await pair(deflate);
    const parts = [new Uint8Array([0, 2, 1, 7]), new Uint8Array(70_000).map((_, i) => i % 253), new Uint8Array([0, 2, 1, 9])];
    const messages = received(client, 3);
    conn.send(Broadcast.join(parts.map((p) => Broadcast.of(p))));
    expect((await messages).map((m) => new Uint8Array(m.data))).toEqual(parts);
  });

  it('is not written to a socket that is closing', async () => {
    const { conn, client } = await pair(false);
    const closed = new Promise<number>((resolve) => client.once('close', resolve));
    const messages: Buffer[] = [];
    client.on('message', (data: Buffer) => messages.push(data));
    conn.close(1000, 'bye');
    conn.send(Broadcast.of(new Uint8Array([0, 2, 1, 0])));
    expect(await closed).toBe(1000);
    expect(messages).toEqual([]);
  });
});
