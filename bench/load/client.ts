/** A raw protocol client: a socket that has said hello and received the document's state. */
import { RawSocket } from './raw-socket.js';
import { Wire, type Incoming, type Target } from './wire.js';

export interface Client {
  socket: RawSocket;
  wire: Wire;
}

export type OnFrame = (data: Buffer, kind: Incoming, at: number) => void;

/**
 * Opens a socket, sends the hello (and `extra` frames after it), and resolves once the server's
 * sync step 2 — the document's state — has arrived. Every frame, that one included, goes to `onFrame`.
 */
export async function connect(target: Target, onFrame: OnFrame = () => undefined, extra: Uint8Array[] = []): Promise<Client> {
  const wire = new Wire(target);
  const socket = await RawSocket.open(target.url);
  return new Promise((resolve, reject) => {
    let synced = false;
    socket.onmessage = (data, at) => {
      const kind = wire.classify(data);
      onFrame(data, kind, at);
      if (!synced && kind === 'state') {
        synced = true;
        resolve({ socket, wire });
      }
    };
    socket.onclose = () => synced || reject(new Error(`${target.url}: closed before sync`));
    for (const frame of [...wire.hello(), ...extra]) socket.send(frame);
  });
}

/** Runs `open` for 0..count-1, at most `concurrency` at a time (a burst of thousands of upgrades only measures the accept queue). */
export async function openAll<T>(count: number, concurrency: number, open: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(count);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      out[i] = await open(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return out;
}
