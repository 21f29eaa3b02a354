/**
 * Real receivers for notifications, on port 0: an HTTP server whose answer to each request is chosen
 * by a function (200, 500, 429 with Retry-After, too slow, connection closed), keeping every request
 * it got; and a real SMTP server (smtp-server) keeping every mail.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any;
  at: number;
}

/** What to do with the n-th request (from 1): a status (and headers/body), or 'slow' (never answer), or 'close' (drop the connection). */
export type Answer = { status: number; headers?: Record<string, string>; body?: string } | 'slow' | 'close';

export interface Receiver {
  url: string;
  received: Received[];
  /** Requests that were answered 2xx. */
  accepted: () => Received[];
  answer: (n: number, req: Received) => Answer;
  close: () => Promise<void>;
}

export async function startReceiver(answer: (n: number, req: Received) => Answer = () => ({ status: 200 })): Promise<Receiver> {
  const received: Received[] = [];
  const accepted = new Set<Received>();
  const sockets = new Set<import('node:net').Socket>();
  const receiver: Receiver = {
    url: '',
    received,
    accepted: () => received.filter((r) => accepted.has(r)),
    answer,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const r: Received = { method: req.method!, path: req.url!, headers: req.headers, body, json, at: Date.now() };
      received.push(r);
      const a = receiver.answer(received.length, r);
      if (a === 'slow') return;
      if (a === 'close') return void req.socket.destroy();
      if (a.status >= 200 && a.status < 300) accepted.add(r);
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(a.body ?? (a.status < 300 ? '{"ok":true}' : '{"error":"receiver says no"}'));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}

export interface Mail {
  from: string;
  to: string[];
  user?: string;
  raw: string;
  /** The body, quoted-printable decoded, with \n line ends. */
  text: string;
}

function bodyText(raw: string): string {
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4).replace(/\r\n/g, '\n');
  if (!/^Content-Transfer-Encoding: quoted-printable/im.test(raw)) return body;
  const bytes = body.replace(/=\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

export async function startSmtp(options: { user?: string; password?: string } = {}): Promise<{ port: number; mails: Mail[]; close: () => Promise<void> }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    authOptional: !options.user,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === options.user && auth.password === options.password) return callback(null, { user: auth.username });
      callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          raw,
          text: bodyText(raw),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
