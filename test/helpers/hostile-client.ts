/**
 * A hostile client as its own process (so its CPU is not charged to the honest clients being timed):
 * sends `frames` mangled frames, one connection per URL at a time, each frame waited for, reconnecting
 * whenever the server closes a connection, and prints a JSON summary. Input: the HOSTILE env variable, as JSON.
 */
import WebSocket from 'ws';
import { mutate, seedFrames } from './hostile-frames.js';
import { seededRandom } from './random.js';

interface Plan {
  /** ws://host:port/collab/<id>?token=… */
  urls: string[];
  frames: number;
  seed: number;
}

const plan = JSON.parse(process.env.HOSTILE ?? '{}') as Plan;
const random = seededRandom(plan.seed);
const seeds = seedFrames();
let sent = 0;
/** Frames the server accepted (the socket stayed open and answered the probe). */
let answered = 0;
const closes: Record<string, number> = {};

const probe = Uint8Array.of(0, 0, 1, 0); // sync step 1 with an empty state vector: answered with step 2

/**
 * Sends one mangled frame and waits until the server has dealt with it: it either closes the socket
 * (refused) or answers the valid probe sent right behind it (frames are handled in order).
 */
function sendAndWait(ws: WebSocket, frame: Uint8Array): Promise<'open' | 'closed'> {
  return new Promise((resolve) => {
    const onMessage = (data: Buffer) => {
      if (data[0] === 0 && data[1] === 1) finish('open');
    };
    const onClose = () => finish('closed');
    const finish = (how: 'open' | 'closed') => {
      ws.off('message', onMessage);
      ws.off('close', onClose);
      resolve(how);
    };
    ws.on('message', onMessage);
    ws.on('close', onClose);
    ws.send(frame);
    ws.send(probe);
  });
}

function open(url: string): Promise<WebSocket | undefined> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.on('open', () => resolve(ws));
    ws.on('close', (code) => (closes[code] = (closes[code] ?? 0) + 1));
    ws.on('error', () => resolve(undefined));
  });
}

async function worker(url: string): Promise<void> {
  let ws: WebSocket | undefined;
  while (sent < plan.frames) {
    if (!ws || ws.readyState !== WebSocket.OPEN) ws = await open(url);
    if (!ws) continue;
    sent++;
    if ((await sendAndWait(ws, mutate(seeds[Math.floor(random() * seeds.length)]!, random))) === 'open') answered++;
  }
  ws?.close();
}

const started = performance.now();
await Promise.all(plan.urls.map(worker));
await new Promise((r) => setTimeout(r, 200));
process.stdout.write(`${JSON.stringify({ sent, answered, closes, seconds: (performance.now() - started) / 1000 })}\n`);
process.exit(0);
