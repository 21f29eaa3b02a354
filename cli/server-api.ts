/**
 * The HTTP side of the server, as the CLI uses it: the same routes, token and upload as the web app.
 * Every failure becomes ServerUnreachable (worth retrying as is) or ServerRefused (needs a change).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { IncidentAuthors, Incident, User } from '../shared/api.js';
import type { AttachmentKind } from '../shared/attachments.js';
import { estimateClockOffset, type ClockOffset, type ClockSample } from '../shared/clock.js';
import { Paths } from '../shared/protocol.js';
import type { ServerAccess } from './config.js';
import { ServerRefused, ServerUnreachable } from './errors.js';

/** Small requests only: an upload of a large capture takes as long as it takes, as long as it moves. */
const REQUEST_TIMEOUT_MS = 15_000;
const UPLOAD_IDLE_MS = 60_000;
const CLOCK_SAMPLES = 5;

export interface UploadedAttachment {
  id: string;
  name: string;
  size: number;
  sha256: string;
  kind: AttachmentKind;
}

export class BridgelogApi {
  constructor(readonly access: ServerAccess) {}

  get url(): string {
    return this.access.url;
  }

  /** Base URL of the collaboration socket, as the stock provider wants it. */
  get collabUrl(): string {
    return this.access.url.replace(/^http/, 'ws') + Paths.collab;
  }

  async fetch(urlPath: string, init: RequestInit & { timeoutMs?: number | null } = {}): Promise<Response> {
    const { timeoutMs = REQUEST_TIMEOUT_MS, ...rest } = init;
    try {
      return await fetch(this.url + urlPath, {
        ...rest,
        headers: { authorization: `Bearer ${this.access.token}`, ...rest.headers },
        signal: timeoutMs === null ? undefined : AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new ServerUnreachable(`cannot reach ${this.url}: ${networkReason(err)}`);
    }
  }

  /** Passes a 2xx answer through; turns any other into the error that says what to do. `what` names a 404's subject. */
  async check(res: Response, what?: string): Promise<Response> {
    if (res.ok) return res;
    const detail = await errorDetail(res);
    if (res.status === 401) throw new ServerRefused(`${this.url} refused the API token (401): check BRIDGELOG_TOKEN, or run \`bridgelog login\``);
    if (res.status === 403) throw new ServerRefused(`${this.url} refused: ${detail} (403)`);
    if (res.status === 404 && what) throw new ServerRefused(`${what} does not exist on ${this.url}, or you are not a member of it (404)`);
    if (res.status >= 500 || res.status === 408 || res.status === 429) {
      throw new ServerUnreachable(`${this.url} could not answer: ${detail} (${res.status})`);
    }
    throw new ServerRefused(`${this.url} refused the request: ${detail} (${res.status})`);
  }

  async getJson<T>(urlPath: string, what?: string): Promise<T> {
    const res = await this.check(await this.fetch(urlPath), what);
    return (await res.json()) as T;
  }

  me(): Promise<User> {
    return this.getJson<User>('/api/auth/me');
  }

  incidents(): Promise<Incident[]> {
    return this.getJson<Incident[]>('/api/incidents');
  }

  incident(id: string): Promise<Incident> {
    return this.getJson<Incident>(`/api/incidents/${encodeURIComponent(id)}`, `incident ${id}`);
  }

  authors(incidentId: string, after = 0): Promise<IncidentAuthors> {
    return this.getJson<IncidentAuthors>(`/api/incidents/${encodeURIComponent(incidentId)}/authors?after=${after}`, `incident ${incidentId}`);
  }

  attachments(incidentId: string): Promise<UploadedAttachment[]> {
    return this.getJson<UploadedAttachment[]>(`/api/incidents/${encodeURIComponent(incidentId)}/attachments`, `incident ${incidentId}`);
  }

  /** The incident's document as a Yjs update. */
  async state(incidentId: string): Promise<Uint8Array> {
    const res = await this.check(await this.fetch(`/api/incidents/${encodeURIComponent(incidentId)}/state`), `incident ${incidentId}`);
    return new Uint8Array(await res.arrayBuffer());
  }

  /** How far this machine's clock is from the server's (shared/clock.ts), from a few round trips. */
  async clockOffset(): Promise<ClockOffset> {
    const samples: ClockSample[] = [];
    for (let i = 0; i < CLOCK_SAMPLES; i++) {
      const sentAt = Date.now();
      const res = await this.check(await this.fetch('/api/clock'));
      const { serverTime } = (await res.json()) as { serverTime: number };
      samples.push({ sentAt, serverTime, receivedAt: Date.now() });
    }
    return estimateClockOffset(samples);
  }

  /**
   * The browser's upload route, as multipart with the field `file`. Streamed from disk through
   * node:http, because Node 20's fetch holds a whole request body in memory (a 1 GB capture: 1 GB).
   */
  async upload(incidentId: string, filePath: string, name: string): Promise<UploadedAttachment> {
    const boundary = `bridgelog-${randomBytes(16).toString('hex')}`;
    // Quoted as browsers quote a file name (HTML's multipart/form-data encoding).
    const quoted = name.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${quoted}"\r\nContent-Type: application/octet-stream\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const { size } = await fs.promises.stat(filePath);
    const url = new URL(`${this.url}/api/incidents/${encodeURIComponent(incidentId)}/attachments`);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = (url.protocol === 'https:' ? https : http).request(url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.access.token}`,
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': head.length + size + tail.length,
        },
      });
      let answered = false;
      req.on('response', (res) => {
        answered = true;
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', (err) => reject(new ServerUnreachable(`${this.url} broke off its answer to the upload: ${networkReason(err)}`)));
      });
      req.on('error', (err) => {
        // A server refusing a file (e.g. over its limit) answers and closes while the file is still
        // being sent: its answer, when it comes, says more than the broken connection does.
        setTimeout(() => answered || reject(new ServerUnreachable(`upload to ${this.url} failed: ${networkReason(err)}`)), 500);
      });
      req.setTimeout(UPLOAD_IDLE_MS, () => req.destroy(Object.assign(new Error('no progress'), { name: 'TimeoutError' })));
      pipeline(Readable.from(multipart(head, filePath, tail)), req).catch(() => {
        // reported by the request's own error event, or irrelevant once the server has answered
      });
    });
    await this.check(new Response(answer.body, { status: answer.status }), `incident ${incidentId}`);
    return JSON.parse(answer.body) as UploadedAttachment;
  }
}

async function* multipart(head: Buffer, filePath: string, tail: Buffer): AsyncGenerator<Buffer> {
  yield head;
  yield* fs.createReadStream(filePath);
  yield tail;
}

/** Why a request failed, from fetch's error (the reason is in its cause) or node:http's. */
function networkReason(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return 'no answer in time';
  const cause = err instanceof Error ? ((err.cause ?? err) as NodeJS.ErrnoException) : undefined;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused (is the server running?)';
  if (cause?.code === 'ENOTFOUND') return 'host name not found';
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}

/** The server's `{error}` message when it sent one. */
async function errorDetail(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === 'string') return body.error;
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.slice(0, 200) || res.statusText;
}
