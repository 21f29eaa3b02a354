/**
 * One attempt to deliver one message: an HTTP request (webhook, Slack, Teams, Matrix) or an email
 * (SMTP through nodemailer), each within bounded connect and response times, to an address checked
 * at connection time (safe-target.ts), never following a redirect. What comes back is kept short:
 * the status code and the first `excerptChars` of the answer.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import nodemailer from 'nodemailer';
import { NotificationLimits } from '../../shared/notifications.js';
import type { DestinationRecord, MessageRecord } from './notification-store.js';
import { emailMessage, matrixMessage, slackMessage, teamsMessage, webhookBody } from './render.js';
import { checkedAddresses, safeLookup, TargetRefused } from './safe-target.js';

export interface SendOptions {
  allowPrivate: boolean;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
}

export interface SendResult {
  ok: boolean;
  statusCode?: number;
  error?: string;
  excerpt?: string;
  /** The receiver asked to be tried again no sooner than this (429/503 Retry-After), ms. */
  retryAfterMs?: number;
  /** Trying again cannot help (a 4xx other than 408/425/429): failed now, for an admin to look at. */
  permanent?: boolean;
}

/** Standard Webhooks: base64 HMAC-SHA256 of `id.timestamp.body` with the secret's bytes. */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}

export async function send(destination: DestinationRecord, message: MessageRecord, options: SendOptions): Promise<SendResult> {
  const event = message.event;
  switch (destination.kind) {
    case 'slack':
      return post(destination.url!, 'POST', JSON.stringify(slackMessage(event)), {}, options);
    case 'teams':
      return post(destination.url!, 'POST', JSON.stringify(teamsMessage(event)), {}, options);
    case 'matrix': {
      // The message id as the transaction id: Matrix itself ignores a second PUT of the same one.
      const target = new URL(
        `_matrix/client/v3/rooms/${encodeURIComponent(destination.roomId!)}/send/m.room.message/${encodeURIComponent(message.id)}`,
        destination.url!.endsWith('/') ? destination.url! : `${destination.url!}/`,
      );
      return post(target.href, 'PUT', JSON.stringify(matrixMessage(event)), { authorization: `Bearer ${destination.secret ?? ''}` }, options);
    }
    case 'webhook': {
      const body = JSON.stringify(webhookBody(event));
      const timestamp = Math.floor(Date.now() / 1000);
      return post(destination.url!, 'POST', body, {
        'webhook-id': message.id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(destination.secret ?? '', message.id, timestamp, body),
      }, options);
    }
    case 'email':
      return sendEmail(destination, message, options);
  }
}

/** Seconds or an HTTP date, as ms from now; undefined if absent or unreadable. */
export function retryAfterMs(header: string | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const excerptOf = (text: string) => text.slice(0, NotificationLimits.excerptChars);
const retryable = (status: number) => status === 408 || status === 425 || status === 429 || status >= 500;

async function post(url: string, method: 'POST' | 'PUT', body: string, headers: Record<string, string>, options: SendOptions): Promise<SendResult> {
  const target = new URL(url);
  try {
    // The socket's lookup checks names; an address written as such is checked here.
    await checkedAddresses(target.hostname, options.allowPrivate);
  } catch (err) {
    if (err instanceof TargetRefused) return { ok: false, error: err.message };
    throw err;
  }
  const client = target.protocol === 'https:' ? https : http;
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const done = (result: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(overall);
      resolve(result);
    };
    const req = client.request(target, {
      method,
      agent: false,
      lookup: safeLookup(options.allowPrivate),
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'Bridgelog-Notifications', ...headers },
    });
    const overall = setTimeout(() => {
      req.destroy();
      done({ ok: false, error: `no answer within ${options.responseTimeoutMs} ms` });
    }, options.responseTimeoutMs);
    req.on('socket', (socket) => {
      if (!socket.connecting) return;
      const connect = setTimeout(() => {
        req.destroy();
        done({ ok: false, error: `could not connect within ${options.connectTimeoutMs} ms` });
      }, options.connectTimeoutMs);
      socket.once('connect', () => clearTimeout(connect));
      socket.once('close', () => clearTimeout(connect));
    });
    req.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, error: err instanceof TargetRefused ? err.message : `${err.code ?? 'error'}: ${err.message}` }));
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      let text = '';
      const finish = () => {
        res.destroy();
        const excerpt = excerptOf(text);
        if (status >= 200 && status < 300) return done({ ok: true, statusCode: status, ...(excerpt ? { excerpt } : {}) });
        const redirect = status >= 300 && status < 400 ? ` (redirect to ${res.headers.location ?? 'nowhere'} not followed)` : '';
        done({
          ok: false,
          statusCode: status,
          error: `HTTP ${status}${redirect}`,
          ...(excerpt ? { excerpt } : {}),
          ...(status === 429 || status === 503 ? { retryAfterMs: retryAfterMs(res.headers['retry-after']) } : {}),
          ...(retryable(status) ? {} : { permanent: true }),
        });
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (text.length >= NotificationLimits.excerptChars) finish();
      });
      res.on('end', finish);
      res.on('error', finish);
    });
    req.end(body);
  });
}

async function sendEmail(destination: DestinationRecord, message: MessageRecord, options: SendOptions): Promise<SendResult> {
  const server = new URL(destination.url!);
  let address: string;
  try {
    // Connect to the checked address itself; TLS still verifies the name.
    address = (await checkedAddresses(server.hostname, options.allowPrivate))[0]!.address;
  } catch (err) {
    if (err instanceof TargetRefused) return { ok: false, error: err.message };
    throw err;
  }
  const secure = server.protocol === 'smtps:';
  const transport = nodemailer.createTransport({
    host: address,
    port: Number(server.port) || (secure ? 465 : 587),
    secure,
    name: 'bridgelog',
    tls: { servername: server.hostname.replace(/^\[(.*)\]$/, '$1') },
    ...(server.username ? { auth: { user: decodeURIComponent(server.username), pass: destination.secret ?? '' } } : {}),
    connectionTimeout: options.connectTimeoutMs,
    greetingTimeout: options.connectTimeoutMs,
    socketTimeout: options.responseTimeoutMs,
  });
  const { subject, text } = emailMessage(message.event);
  try {
    const info = await transport.sendMail({
      from: destination.from,
      to: destination.to,
      subject,
      text,
      // Stable: a retry of a message the server took but whose answer was lost carries the same id.
      messageId: `<${message.id}@bridgelog>`,
      headers: { 'X-Bridgelog-Event': message.event.type, 'X-Bridgelog-Incident': message.incidentId },
    });
    return { ok: true, excerpt: excerptOf(String(info.response ?? '')) };
  } catch (err) {
    const e = err as { responseCode?: number; code?: string; message: string };
    const permanent = e.responseCode !== undefined && e.responseCode >= 500 && e.responseCode < 600 && e.code !== 'ECONNECTION';
    return { ok: false, error: excerptOf(`${e.code ?? 'error'}: ${e.message}`), ...(permanent ? { permanent: true } : {}) };
  } finally {
    transport.close();
  }
}
